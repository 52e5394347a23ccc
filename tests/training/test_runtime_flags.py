"""The runtime flags, including the official scripts' TPU / vocab / hub flags."""

import functools

import pytest
from absl import flags as absl_flags

from albert_tf.training.runtime import define_runtime_flags, runtime_params_from_flags


class _Flags:
    """absl's flag functions bound to a private FlagValues (not the global FLAGS)."""

    def __init__(self):
        self.values = absl_flags.FlagValues()

    def __getattr__(self, name):
        return functools.partial(getattr(absl_flags, name), flag_values=self.values)


def parse(*argv):
    module = _Flags()
    define_runtime_flags(module)
    module.values(["prog", *argv])
    return runtime_params_from_flags(module.values)


def test_defaults():
    params = parse()
    assert (params.distribution_strategy, params.tpu, params.tpu_zone) == ("one_device", None,
                                                                            None)


def test_official_tpu_flags_map_onto_ours():
    params = parse("--use_tpu", "--tpu_name=albert-v3-8", "--tpu_zone=us-central1-b",
                   "--gcp_project=proj", "--num_tpu_cores=8", "--vocab_file=ignored.txt")
    assert params.distribution_strategy == "tpu"
    assert (params.tpu, params.tpu_zone, params.gcp_project, params.num_tpu_cores) == (
        "albert-v3-8", "us-central1-b", "proj", 8)
    assert parse("--use_tpu", "--master=grpc://10.0.0.2:8470").tpu == "grpc://10.0.0.2:8470"
    assert parse("--nouse_tpu", "--distribution_strategy=mirrored").distribution_strategy == (
        "mirrored")
    assert parse("--tpu=a", "--tpu_name=a").tpu == "a"


@pytest.mark.parametrize("argv, message", [
    (["--albert_hub_module_handle=https://tfhub.dev/google/albert_base/3"], "TF-Hub"),
    (["--use_tpu", "--distribution_strategy=mirrored"], "--use_tpu conflicts"),
    (["--tpu=a", "--tpu_name=b"], "give one"),
])
def test_conflicts_and_unsupported_fail_at_parse_time(argv, message):
    with pytest.raises(absl_flags.IllegalFlagValueError, match=message):
        parse(*argv)
