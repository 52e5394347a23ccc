"""Whether this host's CPU computes bfloat16 natively (read from /proc/cpuinfo)."""

# x86: AVX512_BF16 (Cooper Lake, Zen 4 and later) or AMX-BF16 (Sapphire Rapids and later);
# Arm: the BF16 extension (Neoverse V1/N2, Graviton 3 and later).
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


def cpu_flags(cpuinfo_text):
    """The feature flags of the first processor in a /proc/cpuinfo text (x86 `flags`,
    Arm `Features`), lower-cased; an empty set when there is no such line."""
    for line in cpuinfo_text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            return frozenset(value.lower().split())
    return frozenset()


def cpu_has_native_bf16(cpuinfo_path="/proc/cpuinfo"):
    """True/False from the CPU's flags; None when they cannot be read (not Linux)."""
    try:
        with open(cpuinfo_path, encoding="utf-8", errors="replace") as f:
            flags = cpu_flags(f.read())
    except OSError:
        return None
    if not flags:
        return None
    return bool(flags & BF16_FLAGS)
