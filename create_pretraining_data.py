"""Creates ALBERT masked-LM / sentence-order pretraining TFRecords from text.

Official flags and defaults of google-research/albert create_pretraining_data.py,
plus --num_workers, --document_window_mb, --interleave_windows and
--shuffle_buffer_size. Output is
deterministic: the same seed and inputs give byte-identical files for any
--num_workers. See albert_tf/data/pretraining_writer.py for the design.

  python create_pretraining_data.py \\
    --input_file=corpus/*.txt --output_file=out/train.tfrecord \\
    --spm_model_file=30k-clean.model --max_seq_length=128 --dupe_factor=10
"""

from albert_tf.cli.create_pretraining_data import main, run  # noqa: F401 (lives there)

if __name__ == "__main__":
    run()
