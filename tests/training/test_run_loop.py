"""The one run loop and what it owns for every entry point: settings -> flags and
their ranges, the output_dir config guard, the best checkpoint, atomic writes,
evaluation curves, progress lines, the console commands and their --help."""

import ast
import dataclasses
import functools
import importlib
import json
import math
import os
import pathlib

import numpy as np
import pytest
from absl import flags as absl_flags

from albert_tf import AlbertConfig
from albert_tf.atomic_write import atomic_path, write_json_atomically
from albert_tf.modeling.models import AlbertClassifier
from albert_tf.training.best_checkpoint import BestCheckpoint
from albert_tf.tasks.glue.task import ClassifierParams, run_classifier
from albert_tf.tasks.pretraining.task import PretrainingParams, run_pretraining
from albert_tf.training.progress import with_progress
from albert_tf.tasks.race.task import RaceParams, run_race
from albert_tf.training.runtime import OFFICIAL_FLAGS_MODULE, RuntimeParams
from albert_tf.training.saved_checkpoints import checkpoint_step
from albert_tf.settings import define_flags, params_from_flags
from albert_tf.tasks.squad.task import SquadParams, run_squad
from forked_commands import run_forked
from synthetic_pretraining_data import write_records

REPO = pathlib.Path(__file__).resolve().parents[2]
TINY = REPO / "configs" / "albert_tiny_test.json"
SMALL = AlbertConfig(vocab_size=40, embedding_size=8, hidden_size=16, num_hidden_layers=2,
                     num_attention_heads=2, intermediate_size=24, max_position_embeddings=16)


class _Flags:
    """absl's flag functions bound to a private FlagValues (not the global FLAGS)."""

    def __init__(self):
        self.values = absl_flags.FlagValues()

    def __getattr__(self, name):
        return functools.partial(getattr(absl_flags, name), flag_values=self.values)


def parse(params_cls, *argv):
    module = _Flags()
    define_flags(params_cls, module)
    module.values(["prog", *argv])
    return params_from_flags(params_cls, module.values)


# ------------------------------------------------------------ settings -> flags

def test_flags_come_from_the_fields_with_types_enums_aliases_and_runtime():
    params = parse(RaceParams, "--output_dir=o", "--albert_config_file=c",
                   "--spm_model_file=s", "--learning_rate=2e-5", "--num_keep_checkpoint=3",
                   "--nodo_eval", "--hidden_dropout_prob=0", "--optimizer=lamb",
                   "--random_seed=7", "--use_tpu", "--tpu_name=v3")
    assert params == RaceParams(
        output_dir="o", albert_config_file="c", spm_model_file="s", learning_rate=2e-5,
        keep_checkpoint_max=3, do_eval=False, hidden_dropout_prob=0.0, optimizer="lamb",
        runtime=RuntimeParams(seed=7, distribution_strategy="tpu", tpu="v3"))
    with pytest.raises(absl_flags.IllegalFlagValueError, match="sgd"):
        parse(ClassifierParams, "--optimizer=sgd")


@pytest.mark.parametrize("params_cls", [ClassifierParams, RaceParams, SquadParams,
                                        PretrainingParams])
def test_every_field_is_a_flag_with_its_default(params_cls):
    module = _Flags()
    names = define_flags(params_cls, module)
    assert "random_seed" in names and "distribution_strategy" in names
    module.values(["prog"])

    def check(cls):
        for field in dataclasses.fields(cls):
            if field.default_factory is not dataclasses.MISSING and \
                    dataclasses.is_dataclass(field.default_factory()):
                if field.name != "runtime":  # its own define_flags hook; tested above
                    check(type(field.default_factory()))  # nested: flattened flags
                continue
            flag = module.values[field.metadata.get("flag", field.name)]
            assert flag.help.endswith(field.metadata["help"])
            if field.default is not dataclasses.MISSING:
                assert flag.value == field.default, field.name
    check(params_cls)


# ------------------------------------------------- ranges (issue 19 b, c, d)

def _params(kind, tmp_path, **changes):
    out = str(tmp_path / "out")
    common = dict(albert_config_file=str(TINY), output_dir=out, max_seq_length=96)
    if kind == "pretraining":
        return PretrainingParams(input_file=str(tmp_path / "x"), **common, **changes)
    if kind == "classifier":
        return ClassifierParams(task_name="rte", data_dir=str(tmp_path), do_train=True,
                                spm_model_file=str(TINY), **common, **changes)
    if kind == "race":
        return RaceParams(data_dir=str(tmp_path), spm_model_file=str(TINY), max_qa_length=32,
                          do_train=True, **common, **changes)
    return SquadParams(do_train=True, train_file=str(TINY), spm_model_file=str(TINY),
                       **common, **changes)


RUNNERS = {"pretraining": run_pretraining, "classifier": run_classifier, "race": run_race,
           "squad": run_squad}


@pytest.mark.parametrize("kind, changes, message", [
    ("classifier", dict(learning_rate=-0.01), "--learning_rate must be > 0, got -0.01"),
    ("pretraining", dict(learning_rate=0.0), "--learning_rate must be > 0, got 0.0"),
    ("squad", dict(learning_rate=-1e-5), "--learning_rate must be > 0"),
    ("classifier", dict(train_batch_size=0), "--train_batch_size must be >= 1, got 0"),
    ("pretraining", dict(train_batch_size=-8), "--train_batch_size must be >= 1, got -8"),
    ("race", dict(eval_batch_size=0), "--eval_batch_size must be >= 1, got 0"),
    ("squad", dict(predict_batch_size=-1), "--predict_batch_size must be >= 1, got -1"),
    ("pretraining", dict(eval_batch_size=0), "--eval_batch_size must be >= 1"),
    ("pretraining", dict(iterations_per_loop=0), "--iterations_per_loop must be >= 1, got 0"),
    ("race", dict(iterations_per_loop=0), "--iterations_per_loop must be >= 1, got 0"),
    ("race", dict(keep_checkpoint_max=0), "--num_keep_checkpoint must be >= 1, got 0"),
    ("classifier", dict(dropout_prob=1.0), r"--dropout_prob must be >= 0 and < 1, got 1.0"),
    ("race", dict(runtime=RuntimeParams(num_gpus=-1)), "--num_gpus must be >= 0"),
])
def test_values_out_of_range_are_refused_naming_the_flag(tmp_path, kind, changes, message):
    with pytest.raises(ValueError, match=message):
        RUNNERS[kind](_params(kind, tmp_path, **changes))
    assert not (tmp_path / "out").exists()


# ------------------------------------- another model's output_dir (issue 19 a)

@pytest.mark.parametrize("kind", ["pretraining", "classifier", "race", "squad"])
def test_output_dir_of_another_model_is_refused_before_anything_is_written(tmp_path, kind):
    out = tmp_path / "out"
    out.mkdir()
    other = dict(json.loads(TINY.read_text()), hidden_size=64, num_hidden_layers=3)
    (out / "albert_config.json").write_text(json.dumps(other))
    (out / "model.ckpt-5.index").write_bytes(b"index")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(ValueError) as error:
        RUNNERS[kind](_params(kind, tmp_path))
    message = str(error.value)
    assert f"--output_dir {out} holds a run of another model" in message
    assert "hidden_size: 64 there, 32 in --albert_config_file" in message
    assert "num_hidden_layers: 3 there, 2 in" in message
    assert "intermediate_size" not in message  # equal fields are not listed
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


# ------------------------------------------------------------ best checkpoint

def test_best_checkpoint_follows_the_direction_and_survives_a_restart(tmp_path):
    model = AlbertClassifier(SMALL, num_labels=2)
    keeper = BestCheckpoint(str(tmp_path), "loss", higher_is_better=False,
                            record_keys=("loss",))
    assert keeper.update(model, 10, {"loss": 0.5, "accuracy": 0.6}, "ckpt-10")
    assert not keeper.update(model, 20, {"loss": 0.7}, "ckpt-20")
    assert not keeper.update(model, 30, {"loss": math.nan}, "ckpt-30")
    assert json.loads((tmp_path / "best_eval.json").read_text()) == {"loss": 0.5,
                                                                     "global_step": 10}
    restarted = BestCheckpoint(str(tmp_path), "loss", higher_is_better=False)
    assert restarted.best_step == 10
    assert not restarted.update(model, 40, {"loss": 0.6})
    assert restarted.update(model, 50, {"loss": 0.25})
    assert checkpoint_step(str(tmp_path / "model.ckpt-best")) == 50
    history = [json.loads(line) for line in
               (tmp_path / "eval_history.jsonl").read_text().splitlines()]
    assert [h["global_step"] for h in history] == [10, 20, 30, 40, 50]
    assert history[2]["loss"] is None  # NaN as valid JSON
    assert history[0]["checkpoint"] == "ckpt-10" and "checkpoint" not in history[3]
    assert not list(tmp_path.glob("*.tmp"))


def test_atomic_writes_leave_the_old_file_on_failure(tmp_path):
    path = tmp_path / "results.json"
    write_json_atomically(path, {"f1": np.float32(0.5), "x": float("inf")})
    assert json.loads(path.read_text()) == {"f1": 0.5, "x": None}
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            pathlib.Path(tmp).write_text("half")
            raise RuntimeError("killed while writing")
    assert json.loads(path.read_text()) == {"f1": 0.5, "x": None}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


# ----------------------------------------------------------------- progress

def test_progress_lines_give_an_eta(capsys):
    ticks = iter([0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 26.0])
    got = list(with_progress(range(5), 5, "eval rte", every_seconds=10.0,
                             clock=lambda: next(ticks)))
    assert got == [0, 1, 2, 3, 4]
    # 2 batches in 10 s: 0.2/s, 3 left -> 15 s; 4 in 20 s: 1 left -> 5 s; the end line
    # (5 in 26 s) follows because the last one printed was not the end.
    assert capsys.readouterr().out.splitlines() == [
        "eval rte: batch 2/5 | 0.20 batches/s | ETA 0m15s",
        "eval rte: batch 4/5 | 0.20 batches/s | ETA 0m05s",
        "eval rte: batch 5/5 | 0.19 batches/s | ETA 0m00s"]


# ---------------------------------------- pretraining through the loop, with eval

def read_eval_curves(directory):
    """{tag: {step: value}} read back by TensorBoard's own event reader."""
    from tensorboard.backend.event_processing import event_accumulator
    import tensorflow as tf

    events = event_accumulator.EventAccumulator(str(directory))
    events.Reload()
    return {tag: {e.step: float(tf.make_ndarray(e.tensor_proto)) for e in events.Tensors(tag)}
            for tag in events.Tags()["tensors"]}


def test_pretraining_keeps_best_saves_final_and_writes_eval_curves(tmp_path):
    records = write_records(tmp_path / "train.tfrecord", 16, vocab_size=30000)
    out = tmp_path / "out"
    result = run_pretraining(PretrainingParams(
        albert_config_file=str(TINY), input_file=str(records), output_dir=str(out),
        max_seq_length=32, max_predictions_per_seq=5, train_batch_size=8, eval_batch_size=8,
        num_train_steps=2, num_warmup_steps=0, save_checkpoints_steps=2,
        iterations_per_loop=2, max_eval_steps=2, do_eval=True))
    official = dict(line.split(" = ") for line in
                    (out / "eval_results.txt").read_text().splitlines())
    assert float(official["masked_lm_accuracy"]) == pytest.approx(
        result["eval"]["masked_lm_accuracy"])
    assert json.loads((out / "best_eval.json").read_text()) == {
        "masked_lm_accuracy": pytest.approx(result["eval"]["masked_lm_accuracy"]),
        "global_step": 2}
    assert checkpoint_step(str(out / "model.ckpt-best")) == 2
    assert 'model_checkpoint_path: "model.ckpt-2"' in (out / "checkpoint").read_text()
    curves = read_eval_curves(out / "summaries" / "eval")
    for tag in ("masked_lm_accuracy", "sentence_order_accuracy", "loss"):
        assert curves[tag] == {2: pytest.approx(result["eval"][tag], rel=1e-6)}, tag


# ---------------------------------------------------------- console commands

def console_scripts():
    tree = ast.parse((REPO / "setup.py").read_text())
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call)
                and getattr(n.func, "id", None) == "setup")
    keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords
                if k.arg in ("entry_points", "py_modules")}
    assert "py_modules" not in keywords  # no generic top-level modules in site-packages
    return dict(line.replace(" ", "").split("=")
                for line in keywords["entry_points"]["console_scripts"])


def test_console_commands_point_at_the_cli_package():
    scripts = console_scripts()
    assert set(scripts) == {"albert-pretraining-data", "albert-pretrain", "albert-classifier",
                            "albert-race", "albert-squad", "albert-export", "albert-vocab",
                            "albert-convert"}
    for name, target in scripts.items():
        module_name, attribute = target.split(":")
        assert module_name.startswith("albert_tf.cli.") and attribute == "run", name
        if name == "albert-convert" and importlib.util.find_spec(module_name) is None:
            continue  # the converter lands with the interop issue
        assert callable(getattr(importlib.import_module(module_name), attribute)), name


RUNTIME_FLAGS = ("--distribution_strategy", "--mixed_precision", "--[no]jit_compile",
                 "--[no]use_tpu", "--tpu_name", "--tpu_zone", "--gcp_project", "--master",
                 "--num_tpu_cores", "--random_seed")


def test_help_of_every_entry_point_lists_its_flags_and_the_runtime_flags():
    """`--help` (not only --helpfull) of the shims, each run as users run it (the file as
    __main__), in a fork of one Python that imported the commands once."""
    scripts = {"run_pretraining.py": ("--input_file", "--masked_lm_budget"),
               "run_classifier.py": ("--task_name", "--[no]do_eval"),
               "run_race.py": ("--num_keep_checkpoint", "--max_qa_length"),
               "run_squad.py": ("--[no]version_2_with_negative", "--predict_feature_left_file"),
               "export_savedmodel.py": ("--model_kind", "--label_list"),
               "create_pretraining_data.py": ("--input_file", "--dupe_factor")}
    commands = [{"argv": [REPO / s, "--help"]} for s in scripts]
    # albert-vocab has no shim: its console entry point, as the installed script calls it.
    scripts["albert-vocab"] = ("--model_prefix", "--vocab_size")
    commands.append({"argv": ["albert-vocab", "--help"], "entry": "albert_tf.cli.train_vocab"})
    modules = [f"albert_tf.cli.{m}" for m in ("run_pretraining", "run_classifier", "run_race",
                                              "run_squad", "export_savedmodel",
                                              "create_pretraining_data", "train_vocab")]
    results = run_forked(commands, modules, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
                                                     PYTHONPATH=str(REPO)))
    outputs = {}
    for (script, own), (_, out, err) in zip(scripts.items(), results):
        outputs[script] = out
        assert "flags:" in out, err[-2000:]  # absl exits 1 after --help
        listed = {line.split(":")[0].strip() for line in out.splitlines()
                  if line.startswith("  --")}
        wanted = set(own) | (set(RUNTIME_FLAGS) if script.startswith("run_") else set())
        assert wanted <= listed, (script, wanted - listed)
        # The command's own flags first; runtime and the official aliases after, apart.
        blocks = {}
        for line in out.split("\nflags:\n", 1)[1].splitlines():
            if line and not line.startswith(" "):
                heading = line.rstrip(":")
            elif line.startswith("  --"):
                blocks.setdefault(heading, []).append(line.split(":")[0].strip())
        first = next(iter(blocks))
        assert first.startswith("albert_tf.cli."), (script, list(blocks))
        if script.startswith("run_"):
            assert not set(blocks[first]) & set(RUNTIME_FLAGS), (script, blocks[first])
            assert list(blocks)[1:] == ["albert_tf.training.runtime", OFFICIAL_FLAGS_MODULE]
    # Examples keep their line breaks and name the script the user ran.
    assert "\n  python run_classifier.py --task_name=RTE --data_dir=glue_data \\\n" in \
        outputs["run_classifier.py"]
    assert "\n  albert-vocab --input=corpus/*.txt" in outputs["albert-vocab"]
