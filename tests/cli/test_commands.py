"""Every command's flags come from one declaration (the params dataclasses and the shared
groups of `albert_tf.settings`), with today's official names; the run-mode defaults follow
one rule; setting errors end a command in one line."""

import dataclasses
import functools
import json
import os
import pathlib
import subprocess
import sys
import types

import pytest
from absl import flags as absl_flags

from albert_tf.cli import (convert_checkpoint, create_pretraining_data, run_pretraining,
                           run_race, run_squad, train_vocab)
from albert_tf.cli.entry import invocation
from albert_tf.export.exporter import ExportParams
from albert_tf.pretraining_data.config import PretrainingDataConfig
from albert_tf.settings import (ModelFiles, SettingError, check_ranges, check_run_modes,
                                define_flags, setting, setting_of)
from albert_tf.tasks.glue.task import ClassifierParams
from albert_tf.tasks.pretraining.task import PretrainingParams
from albert_tf.tasks.race.task import RaceParams
from albert_tf.tasks.squad.task import SquadParams
from forked_commands import run_forked

REPO = pathlib.Path(__file__).resolve().parents[2]
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))

# The flags each command defined before the settings were declared one way (issue 23),
# written out by hand: the names must not change.
FLAGS_BEFORE = {name: set(text.split()) for name, text in {
    "run_classifier": """
        albert_config_file albert_hub_module_handle all_reduce_alg
        attention_probs_dropout_prob cached_dir data_dir deterministic
        distribution_strategy do_eval do_lower_case do_predict do_train dropout_prob
        eval_batch_size eval_file gcp_project gradient_accumulation_steps
        hidden_dropout_prob id_column init_checkpoint init_from_group0
        iterations_per_loop jit_compile keep_checkpoint_max label_column label_list
        learning_rate master max_seq_length mixed_precision num_gpus num_tpu_cores
        optimizer output_dir predict_batch_size predict_file random_seed regression
        save_checkpoints_steps skip_bad_rows spm_model_file task_name text_a_column
        text_b_column tfds_data_dir tfds_eval_split tfds_label tfds_name
        tfds_predict_split tfds_text_a tfds_text_b tfds_train_split tpu tpu_name
        tpu_zone train_batch_size train_file train_step trim_padding use_tfds use_tpu
        vocab_file warmup_step""",
    "run_race": """
        albert_config_file albert_hub_module_handle all_reduce_alg
        attention_probs_dropout_prob data_dir deterministic distribution_strategy
        do_eval do_lower_case do_predict do_train dropout_prob eval_batch_size eval_file
        gcp_project gradient_accumulation_steps hidden_dropout_prob high_only
        init_checkpoint init_from_group0 iterations_per_loop jit_compile learning_rate
        master max_qa_length max_seq_length middle_only mixed_precision num_gpus
        num_keep_checkpoint num_tpu_cores optimizer output_dir predict_batch_size
        predict_file random_seed save_checkpoints_steps spm_model_file task_name
        tfds_data_dir tpu tpu_name tpu_zone train_batch_size train_file train_step
        trim_padding use_tfds use_tpu vocab_file warmup_step""",
    "run_squad": """
        albert_config_file albert_hub_module_handle all_reduce_alg deterministic
        distribution_strategy do_lower_case do_predict do_train doc_stride dropout_prob
        end_n_top gcp_project gradient_accumulation_steps init_checkpoint
        init_from_group0 iterations_per_loop jit_compile keep_checkpoint_max
        learning_rate master max_answer_length max_query_length max_seq_length
        mixed_precision n_best_size null_score_diff_threshold num_gpus num_tpu_cores
        num_train_epochs optimizer output_dir predict_batch_size predict_feature_file
        predict_feature_left_file predict_file random_seed save_checkpoints_steps
        spm_model_file start_n_top tfds_data_dir tfds_name tfds_predict_split
        tfds_train_split tpu tpu_name tpu_zone train_batch_size train_feature_file
        train_file train_step use_tpu version_2_with_negative vocab_file
        warmup_proportion warmup_step""",
    "run_pretraining": """
        albert_config_file albert_hub_module_handle all_reduce_alg deterministic
        distribution_strategy do_eval do_train dynamic_masking eval_batch_size eval_file
        favor_shorter_ngram gcp_project gradient_accumulation_steps init_checkpoint
        init_from_group0 input_file iterations_per_loop jit_compile keep_checkpoint_max
        learning_rate loss_bound masked_lm_budget masked_lm_prob master max_eval_steps
        max_predictions_per_seq max_rollbacks max_seq_length mixed_precision ngram
        num_gpus num_tpu_cores num_train_steps num_warmup_steps optimizer output_dir
        poly_power random_seed save_checkpoints_steps shuffle_buffer start_warmup_step
        tpu tpu_name tpu_zone train_batch_size use_tpu vocab_file""",
    "export_savedmodel": """
        albert_config_file do_lower_case doc_stride end_n_top export_dir init_checkpoint
        label_list max_answer_length max_qa_length max_query_length max_seq_length
        model_kind n_best_size null_score_diff_threshold num_labels overwrite
        spm_model_file start_n_top task_name text_in_graph version_2_with_negative""",
    "create_pretraining_data": """
        beam_pipeline_options do_lower_case do_permutation do_whole_word_mask
        document_window_mb dupe_factor favor_shorter_ngram input_file input_file_mode
        interleave_windows masked_lm_prob max_predictions_per_seq max_seq_length ngram
        num_output_shards num_workers output_file parallel random_next_sentence
        random_seed runner short_seq_prob shuffle_buffer_size spm_model_file vocab_file""",
    "train_vocab": """
        character_coverage do_lower_case input input_sentence_size model_prefix
        num_threads seed shuffle_input_sentence vocab_size""",
    "convert_checkpoint": """
        albert_config_file do_lower_case input output output_format spm_model_file""",
}.items()}
# The training loop is declared once now, so fine-tuning gained pretraining's guard; your
# own data gained its encoding (issue 24), export its LiteRT format (issue 26); fine-tuning
# gained continuous evaluation (Model Garden's mode=continuous_eval, issue 24).
# Pretraining gained the sentence-task loss weight (the "no sentence task" ablation, issue 27).
CONTINUOUS_EVAL = {"do_continuous_eval", "eval_timeout"}
ADDED = {"run_classifier": {"loss_bound", "max_rollbacks", "file_encoding"} | CONTINUOUS_EVAL,
         "run_race": {"loss_bound", "max_rollbacks"} | CONTINUOUS_EVAL,
         "run_squad": {"loss_bound", "max_rollbacks"} | CONTINUOUS_EVAL,
         "export_savedmodel": {"format", "quantization", "representative_data"},
         "run_pretraining": {"sentence_order_loss_weight"}}

# Each command's declarations: its params class (runtime flags through its nested
# `runtime`) and the official flags that are no setting here.
DECLARATIONS = {
    "run_classifier": [ClassifierParams],
    "run_race": [RaceParams, run_race.OfficialRaceFlags],
    "run_squad": [SquadParams, run_squad.OfficialSquadFlags],
    "run_pretraining": [PretrainingParams, run_pretraining.OfficialPretrainingFlags],
    "export_savedmodel": [ExportParams],
    "create_pretraining_data": [create_pretraining_data.DataFiles, PretrainingDataConfig,
                                create_pretraining_data.OfficialDataFlags],
    "train_vocab": [train_vocab.VocabParams],
    "convert_checkpoint": [convert_checkpoint.ConvertParams],
}


class _Flags:
    """absl's flag functions bound to a private FlagValues (not the global FLAGS)."""

    def __init__(self):
        self.values = absl_flags.FlagValues()

    def __getattr__(self, name):
        return functools.partial(getattr(absl_flags, name), flag_values=self.values)


def declared(classes):
    module = _Flags()
    names = []
    for cls in classes:
        names += define_flags(cls, module)
    return module.values, names


def all_fields(cls):
    """(field, owner) of `cls` and its nested dataclass fields."""
    for field in dataclasses.fields(cls):
        default = field.default_factory() if field.default_factory is not \
            dataclasses.MISSING else None
        if dataclasses.is_dataclass(default):
            yield from all_fields(type(default))
        else:
            yield field


DEFINED_BY_COMMANDS = r"""
import importlib, json, sys
from absl import flags
modules = {name: importlib.import_module("albert_tf.cli." + name) for name in sys.argv[1:]}
out = {}
for name, module in modules.items():
    before = set(flags.FLAGS)
    module.define_flags()
    new = set(flags.FLAGS) - before
    out[name] = sorted(new)
    for flag in new:
        delattr(flags.FLAGS, flag)
print(json.dumps(out))
"""


def test_every_command_defines_todays_flags_from_its_declarations():
    completed = subprocess.run([sys.executable, "-c", DEFINED_BY_COMMANDS, *FLAGS_BEFORE],
                               env=ENV, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    defined = json.loads(completed.stdout.strip().splitlines()[-1])
    for command, classes in DECLARATIONS.items():
        values, names = declared(classes)
        assert len(names) == len(set(names)), (command, "a flag declared twice")
        wanted = FLAGS_BEFORE[command] | ADDED.get(command, set())
        assert set(defined[command]) == wanted, (
            command, set(defined[command]) ^ wanted)
        assert set(names) == wanted, (command, set(names) ^ wanted)
        for cls in classes:
            for field in all_fields(cls):
                flag = values[field.metadata.get("flag", field.name)]
                assert flag.help.endswith(field.metadata["help"]), (command, field.name)
                if field.default is not dataclasses.MISSING and field.name != "num_workers":
                    assert flag.default == field.default, (command, field.name)


def test_shared_settings_are_declared_once():
    """output_dir, the model files and the loop are the groups' fields, not redeclared
    (a changed default keeps the group's help and range)."""
    fields = {cls: {f.name: f for f in dataclasses.fields(cls)}
              for cls in (ClassifierParams, RaceParams, SquadParams, PretrainingParams)}
    for cls, by_name in fields.items():
        for name in ("output_dir", "albert_config_file", "init_checkpoint"):
            assert by_name[name].metadata == fields[ClassifierParams][name].metadata, (
                cls.__name__, name)
        assert by_name["learning_rate"].metadata["above"] == 0
        assert by_name["loss_bound"].default is None and by_name["max_rollbacks"].default == 0
    assert fields[RaceParams]["learning_rate"].default == 1e-5
    assert fields[PretrainingParams]["optimizer"].default == "lamb"
    assert fields[RaceParams]["keep_checkpoint_max"].metadata["flag"] == "num_keep_checkpoint"
    assert fields[RaceParams]["keep_checkpoint_max"].metadata["min"] == 1


def test_setting_of_keeps_the_declaration():
    @dataclasses.dataclass(kw_only=True)
    class Params:
        albert_config_file: str = setting_of(ModelFiles, "albert_config_file", None,
                                             help="Config.")
        rate: float = setting(1.0, "Rate.", above=0)

    @dataclasses.dataclass(kw_only=True)
    class Slower(Params):
        rate: float = setting_of(Params, "rate", 0.5)

    assert Params().albert_config_file is None
    field = {f.name: f for f in dataclasses.fields(Slower)}["rate"]
    assert (field.default, dict(field.metadata)) == (0.5, {"help": "Rate.", "above": 0})
    with pytest.raises(SettingError, match=r"^--rate must be > 0, got -1$"):
        check_ranges(Slower(rate=-1))
    with pytest.raises(TypeError, match="declares no setting 'rates'"):
        setting_of(Params, "rates", 1)


# The official scripts' defaults (google-research/albert run_classifier.py, run_race.py,
# run_squad_v*.py: every --do_* False; run_pretraining.py: --do_train True).
OFFICIAL_RUN_MODES = {
    ClassifierParams: {"do_train": False, "do_eval": False, "do_predict": False},
    RaceParams: {"do_train": False, "do_eval": False, "do_predict": False},
    SquadParams: {"do_train": False, "do_predict": False},
    PretrainingParams: {"do_train": True, "do_eval": False},
}


@pytest.mark.parametrize("params_cls", list(OFFICIAL_RUN_MODES))
def test_run_modes_default_as_the_official_scripts(params_cls):
    values, _ = declared([params_cls])
    values(["prog"])
    modes = {name: values[name].value for name in ("do_train", "do_eval", "do_predict")
             if name in values}
    assert modes == OFFICIAL_RUN_MODES[params_cls]


def test_a_run_with_no_mode_is_refused():
    base = dict(output_dir="o", albert_config_file="c", spm_model_file="s")
    with pytest.raises(SettingError, match="set --do_train and/or --do_eval and/or "
                                           "--do_predict"):
        check_run_modes(RaceParams(**base))
    with pytest.raises(SettingError, match="set --do_train and/or --do_predict$|"
                                           "--do_predict \\("):
        check_run_modes(SquadParams(**base))
    check_run_modes(RaceParams(do_eval=True, **base))
    check_run_modes(PretrainingParams(output_dir="o", albert_config_file="c", input_file="i"))
    check_run_modes(ExportParams(model_kind="encoder", export_dir="e", spm_model_file="s"))


def test_a_command_refuses_a_bad_setting_in_one_line(tmp_path):
    """Run as users run it (the shim, forked after one import): no mode set, then a
    value out of range; nothing written."""
    out = tmp_path / "out"
    common = [REPO / "run_race.py", f"--output_dir={out}",
              f"--albert_config_file={REPO / 'configs' / 'albert_tiny_test.json'}",
              f"--spm_model_file={tmp_path / 'none.model'}"]
    runs = {"none": common, "range": common + ["--do_eval", "--learning_rate=0"]}
    expected = {"none": "albert-race: error: nothing to do: set --do_train and/or --do_eval "
                        "and/or --do_predict (each is off unless given, as in the official "
                        "scripts)",
                "range": "albert-race: error: --learning_rate must be > 0, got 0.0"}
    results = run_forked([{"argv": argv} for argv in runs.values()],
                         ["albert_tf.cli.run_race"], env=ENV)
    for name, (status, _, err) in zip(runs, results):
        assert status == 1, err[-3000:]
        assert "Traceback" not in err
        assert err.strip().splitlines()[-1] == expected[name]
    assert not out.exists()


@pytest.mark.parametrize("argv0, main_module, expected", [
    ("/usr/bin/albert-classifier", types.SimpleNamespace(__spec__=None), "albert-classifier"),
    ("/repo/run_classifier.py", types.SimpleNamespace(__spec__=None),
     "python run_classifier.py"),
    ("/repo/albert_tf/tokenization/vocab_trainer.py",
     types.SimpleNamespace(__spec__=types.SimpleNamespace(
         name="albert_tf.tokenization.vocab_trainer")),
     "python -m albert_tf.tokenization.vocab_trainer"),
])
def test_help_examples_show_the_users_invocation(argv0, main_module, expected):
    assert invocation("albert-classifier", argv0, main_module) == expected


def test_one_range_check_for_every_params_class():
    """The data writer, export and vocabulary settings are checked by the same
    `check_ranges` as training's, naming the flag."""
    with pytest.raises(SettingError, match=r"^--runner must be one of local, DirectRunner, "
                                           r".*got 'SparkRunnr'$"):
        PretrainingDataConfig(runner="SparkRunnr")
    with pytest.raises(SettingError, match=r"^--dupe_factor must be >= 1, got 0$"):
        PretrainingDataConfig(dupe_factor=0)
    assert PretrainingDataConfig().num_workers == 1
    with pytest.raises(SettingError, match=r"^--doc_stride must be >= 1, got 0$"):
        ExportParams(model_kind="squad", export_dir="e", spm_model_file="s",
                     init_checkpoint="c", doc_stride=0).validate()
    with pytest.raises(SettingError, match=r"^--model_kind must be one of encoder, "):
        ExportParams(model_kind="bert", export_dir="e", spm_model_file="s").validate()
    with pytest.raises(SettingError, match=r"^--character_coverage must be >= 0.98 and "
                                           r"<= 1.0, got 0.5$"):
        check_ranges(train_vocab.VocabParams(input="i", model_prefix="m",
                                             character_coverage=0.5))
