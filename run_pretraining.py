"""Pretrains ALBERT (masked LM + sentence-order prediction).

Flags follow google-research/albert run_pretraining.py, plus the distribution,
precision and robustness flags of albert_tf. Example (one host, 8 GPUs, the
paper's batch of 4096 through 8 x 2 accumulation steps of 256):

  python run_pretraining.py --albert_config_file=configs/albert_base_v2.json \
    --input_file='data/pretrain-*.tfrecord' --output_dir=out/base \
    --do_train --distribution_strategy=mirrored --mixed_precision=bfloat16 \
    --jit_compile --gradient_accumulation_steps=2
"""

from albert_tf.cli.run_pretraining import main, run  # noqa: F401 (the entry point lives there)

if __name__ == "__main__":
    run()
