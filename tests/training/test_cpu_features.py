"""CPU bfloat16 detection and the warning for bfloat16 on CPUs without it."""

import logging

import keras
import pytest

from albert_tf.training import runtime
from albert_tf.training.cpu_features import cpu_flags, cpu_has_native_bf16

X86_AVX2 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu sse sse2 avx f16c fma avx2 bmi2 sha_ni vaes
bugs\t\t: sysret_ss_attrs

processor\t: 1
flags\t\t: fpu sse sse2 avx f16c fma avx2 bmi2 sha_ni vaes
"""
X86_SPR = "processor\t: 0\nflags\t\t: avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile\n"
ARM_V1 = "processor\t: 0\nBogoMIPS\t: 2100.00\nFeatures\t: fp asimd sve bf16 i8mm\n"
CPU = ("/job:localhost/replica:0/task:0/device:CPU:0",)
GPUS = ("/job:localhost/replica:0/task:0/device:GPU:0",
        "/job:localhost/replica:0/task:0/device:GPU:1")


def test_cpu_flags_reads_the_first_processor_line():
    assert "avx2" in cpu_flags(X86_AVX2) and "avx512_bf16" not in cpu_flags(X86_AVX2)
    assert {"avx512_bf16", "amx_bf16"} <= cpu_flags(X86_SPR)
    assert "bf16" in cpu_flags(ARM_V1)
    assert cpu_flags("processor\t: 0\nmodel name\t: ?\n") == frozenset()


@pytest.mark.parametrize("text, expected", [(X86_AVX2, False), (X86_SPR, True), (ARM_V1, True),
                                            ("no flags here\n", None)])
def test_cpu_has_native_bf16(tmp_path, text, expected):
    path = tmp_path / "cpuinfo"
    path.write_text(text)
    assert cpu_has_native_bf16(str(path)) is expected


def test_cpu_has_native_bf16_unreadable(tmp_path):
    assert cpu_has_native_bf16(str(tmp_path / "missing")) is None


def test_warning_only_for_bfloat16_on_cpus_without_it():
    warning = runtime.slow_precision_warning("bfloat16", CPU, native_bf16=False)
    assert "AVX512_BF16" in warning and "--mixed_precision=none" in warning
    assert runtime.slow_precision_warning("bfloat16", CPU, native_bf16=True) is None
    assert runtime.slow_precision_warning("bfloat16", CPU, native_bf16=None) is None
    assert runtime.slow_precision_warning("bfloat16", GPUS, native_bf16=False) is None
    assert runtime.slow_precision_warning("none", CPU, native_bf16=False) is None
    assert runtime.slow_precision_warning("float16", CPU, native_bf16=False) is None


def test_setup_runtime_logs_the_warning(monkeypatch, caplog):
    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: False)
    try:
        with caplog.at_level(logging.WARNING):
            runtime.setup_runtime(runtime.RuntimeParams(mixed_precision="bfloat16"))
        assert any("AVX512_BF16" in r.getMessage() for r in caplog.records)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            runtime.setup_runtime(runtime.RuntimeParams(mixed_precision="none"))
        assert not any("AVX512_BF16" in r.getMessage() for r in caplog.records)
    finally:
        keras.config.set_dtype_policy("float32")
