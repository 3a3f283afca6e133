"""``purebp playground``: watch purebp learn in the browser, and open any number into its equation.

The page (purebp/playground/static: HTML, CSS and plain JavaScript, no
dependencies, nothing loaded from elsewhere) draws what a local server
computes with purebp itself: the same Network, optimizers and
``purebp explain`` equations a learner reads. purebp/docs/playground.md
describes the page, the endpoints and the limits.

    purebp.playground.session   the settings, the data, the network, training in a thread
    purebp.playground.server    the http.server handler and the live sessions

Standard library only, like the rest of purebp.
"""
