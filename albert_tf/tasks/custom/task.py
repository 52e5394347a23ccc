"""`CustomTask`: `run_classifier --task_name=custom`, fine-tuning on your own data.

The rows come from CSV/TSV/JSONL files or a TFDS dataset (`reader`), the rest is
GLUE's (`SentenceClassificationTask`: TFRecord caches, `AlbertClassifier`, the best
checkpoint, the official evaluation logs).

Outputs in `output_dir` besides GLUE's: label_list.txt (the label ids of the model) and
predictions.tsv (row id, label, probability per label; or the value) instead of the
GLUE submission files; eval_results.json with accuracy (+ F1 and Matthews correlation
for 2 labels) or Pearson/Spearman (--regression).
"""

import os

from albert_tf.tasks.classification.task import SentenceClassificationTask
from albert_tf.tasks.custom import metrics as custom_metrics
from albert_tf.tasks.custom import reader as custom_text
from albert_tf.tasks.custom.predictions import PREDICTIONS_FILE, write_custom_predictions


class CustomTask(SentenceClassificationTask):
    """Custom data for `run_loop.run`; its settings are `params.custom`
    (`reader.CustomDataParams`)."""

    name = custom_text.TASK_NAME

    def __init__(self, params):
        super().__init__(params)
        self.primary_metric = custom_metrics.primary_metric(bool(params.custom.regression))

    def validate(self):
        p = self.params
        super().validate()
        p.custom.validate()
        if p.custom.tfds_name:
            if p.do_predict and not p.custom.tfds_predict_split:
                raise ValueError("task custom: --do_predict with --tfds_name needs "
                                 "--tfds_predict_split")
            return
        for do_flag, wanted, file_flag, given in (
                ("do_train", p.do_train, "train_file", p.custom.train_file),
                ("do_eval", p.do_eval, "eval_file", p.custom.eval_file),
                ("do_predict", p.do_predict, "predict_file", p.custom.predict_file)):
            if wanted and not given:
                raise ValueError(f"task custom: --{do_flag} needs --{file_flag}")

    def make_processor(self):
        p = self.params
        return custom_text.CustomTextProcessor(p.custom, do_lower_case=p.do_lower_case,
                                               tfds_data_dir=p.tfds_data_dir)

    def label_list(self):
        # The training labels, saved in output_dir for later prediction runs.
        return self.processor.resolve_label_list(self.params.output_dir)

    def read_split(self, split):
        return self.processor.get_examples(None, split)

    def metrics(self, scores, labels):
        return custom_metrics.custom_metrics(scores, labels, len(self.labels),
                                             self.is_regression)

    def write_predictions(self, examples, logits):
        path = write_custom_predictions(
            os.path.join(self.params.output_dir, PREDICTIONS_FILE), [e.guid for e in examples],
            logits, self.labels, self.is_regression)
        print(f"Wrote {len(examples)} predictions to {path}", flush=True)
        return {"predictions_file": path, "num_examples": len(examples)}
