"""Study mode: every equation with its numbers, and pictures of training.

    purebp.study.explain   one training step, each quantity tagged with its equation
    purebp.study.plots     standalone SVG loss curves, decision boundaries, gradient norms
    purebp.study.vanishing the norm of every layer's gradient at initialisation

docs/backprop.md derives the equations these print.
"""
