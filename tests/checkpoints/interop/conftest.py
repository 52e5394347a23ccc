"""Cross-checks against transformers and keras-hub, in the same process as TensorFlow."""

import sys

# torch's triton (GPU kernels only) segfaults when its LLVM library loads after
# TensorFlow's; these CPU checks never need it, so torch and transformers are told
# it is absent (find_spec of a None module returns None).
if "triton" not in sys.modules:
    sys.modules["triton"] = None

