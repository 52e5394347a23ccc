"""The one initial-weights policy of every run: pretraining, GLUE, RACE and SQuAD.

`init_from_checkpoint` loads `bert/*` and whatever of the model's heads the
checkpoint holds with the right shape; a head of another shape (MNLI's 3 labels
into RTE's 2, as the paper fine-tunes RTE from MNLI, or a RACE head into a GLUE
model) is left freshly initialised, with a warning naming both shapes. Every
`bert/*` variable must be present and fit.

`load_initial_weights` decides what a run starts from: training starts from
`--init_checkpoint` (or random weights, or the run's own training checkpoint when
resuming); evaluation or prediction alone uses the fine-tuned model already in
output_dir (`model.ckpt-best`, else the newest), as the official scripts do, and
`--init_checkpoint` only when output_dir holds none.
"""

import os
import re
import tempfile

from absl import logging

from albert_tf.checkpoints import (list_official_variables, resolve_checkpoint,
                                   restore_official_weights)
from albert_tf.checkpoints.pretrained import convert_checkpoint, detect_format
from albert_tf.checkpoints.variable_names import official_variable_map
from albert_tf.training.saved_checkpoints import checkpoint_step, load_for_prediction

LOADED, NEW, PARTIAL, REINITIALISED = "loaded", "new", "partial", "reinitialised"


def init_from_checkpoint(model, init_checkpoint, init_from_group0=False):
    """Loads an official-format checkpoint into `model`, heads where they fit.

    Args:
        model: an `AlbertPretrainer` or a task model (anything
            `official_variable_map` maps).
        init_checkpoint: official checkpoint prefix or directory, or a transformers
            folder or keras-hub preset.
    Returns:
        dict with `status` ("loaded": every head variable came from the
        checkpoint; "new": it has none of them; "partial": some; "reinitialised":
        a head variable had another shape, so the heads are new) and the sorted
        `loaded`, `missing` and `unused` names of `restore_official_weights`.
    Raises:
        CheckpointMismatchError when a `bert/*` variable is missing or misfits.
    """
    if detect_format(init_checkpoint) in ("hf", "keras_hub"):
        # A transformers folder or keras-hub preset: its weights under their official
        # names (bit for bit, `albert_tf.convert_checkpoint`), then the same policy.
        with tempfile.TemporaryDirectory() as tmp:
            official = os.path.join(tmp, "official")
            convert_checkpoint(init_checkpoint, official, "official")
            return init_from_checkpoint(model, official, init_from_group0)
    prefix, _ = resolve_checkpoint(init_checkpoint)
    available = list_official_variables(prefix)
    heads = {name: tuple(v.shape) for name, v in official_variable_map(model).items()
             if not name.startswith("bert/")}
    head_patterns = [re.escape(name) + "$" for name in heads]
    found = {name: available.get(name) for name in heads}
    misfits = [name for name in heads if found[name] is not None and found[name] != heads[name]]
    if misfits:
        details = "; ".join(
            f"{name}: checkpoint {list(found[name]) if found[name] else 'missing'}, "
            f"this task {list(heads[name])}" for name in heads)
        logging.warning("Task head of %s does not fit this task (%s): re-initialising the "
                        "head, loading only bert/*", prefix, details)
        report = restore_official_weights(model, prefix, init_from_group0=init_from_group0,
                                          allow_unexpected=True, skip=head_patterns)
        status = REINITIALISED
    else:
        report = restore_official_weights(model, prefix, init_from_group0=init_from_group0,
                                          allow_missing=head_patterns, allow_unexpected=True)
        present = sum(shape is not None for shape in found.values())
        status = LOADED if present == len(heads) else NEW if present == 0 else PARTIAL
    logging.info("Initialised %s from %s: %d variables; task head %s; %d checkpoint "
                 "variables unused", type(model).__name__, prefix, len(report["loaded"]),
                 status, len(report["unused"]))
    return dict(report, status=status)


def load_initial_weights(model, params, saved_model_first=True):
    """The weights a run starts from (see the module docstring).

    Args:
        params: with `output_dir`, `init_checkpoint`, `do_train` and (optional)
            `init_from_group0`.
        saved_model_first: without training, use the fine-tuned model in
            output_dir before `init_checkpoint` (the fine-tuning scripts).
    Returns:
        The global step of the loaded checkpoint when known, else None.
    Raises:
        ValueError when evaluation/prediction alone finds no model at all.
    """
    source = params.init_checkpoint
    if not params.do_train and saved_model_first:
        step = load_for_prediction(model, params.output_dir, source)
        if step is not False:
            return step
        if not source:
            raise ValueError(
                f"nothing to evaluate or predict with: no --init_checkpoint and no "
                f"fine-tuned checkpoint in --output_dir {params.output_dir}; train first "
                "(--do_train)")
    if not source:
        if params.do_train:
            logging.warning("No --init_checkpoint: starting from random weights (unless "
                            "resuming a run in %s)", params.output_dir)
        return None
    report = init_from_checkpoint(model, source, params.init_from_group0)
    print(f"Initialised from {source}: {len(report['loaded'])} variables; task head "
          f"{report['status']}", flush=True)
    if report["status"] != LOADED and not params.do_train:
        logging.warning("Evaluating/predicting with an untrained task head: %s has no "
                        "(fitting) head for this task", source)
    if detect_format(source) in ("hf", "keras_hub"):
        return None
    return checkpoint_step(resolve_checkpoint(source)[0])
