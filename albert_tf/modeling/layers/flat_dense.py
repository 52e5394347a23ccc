"""Dense projections of [batch, seq, width] activations as 2-D matmuls.

A Keras `Dense` on a 3-D input contracts only the last axis, so its weight gradient
contracts the batch and sequence axes together. XLA's GPU compiler canonicalizes that
two-axis contraction by materialising a transposed copy of the activations ([width, batch,
seq]) for every projection in every layer. With the activations flattened to
[batch * seq, width] (a free reshape) the same gradient is one transposed-operand GEMM.
"""

from keras import ops


def dense_2d(dense, x):
    """Applies `dense` to x [batch, seq, width] as one [batch * seq, width] matmul.

    Returns [batch, seq, dense.units] (the dense layer's output dtype).
    """
    batch, seq_len = ops.shape(x)[0], ops.shape(x)[1]
    y = dense(ops.reshape(x, (-1, ops.shape(x)[-1])))
    return ops.reshape(y, (batch, seq_len, ops.shape(y)[-1]))
