"""Adapters: another library's model or function as an implementation under purebp's oracle.

    purebp.adapters.torch   a PyTorch ``nn.Sequential`` of Linear layers and activations,
                            with torch's own loss module: its results for every case it
                            can express, and a check of them (``purebp check-torch``)
    purebp.adapters.numpy   any function of numpy arrays that computes a case's quantities

Each imports its library only when one of its functions is called, so that
``import purebp`` and ``import purebp.adapters.torch`` need nothing installed;
calling one without the library raises ImportError saying what to install.
What they do not do: judge anything themselves (purebp.oracle.checker does,
with the same tolerance policy as ``purebp check``).
"""
