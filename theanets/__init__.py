"""theanets: neural networks on PyTensor (package skeleton)."""
