"""`seqrnn serve`: a web page and JSON API over trained models of every kind.

    from seqrnn.serve.app import create_app
    app = create_app(sentiment_dir="runs/imdb", charlm_dir="runs/hamlet")
    app = create_app(runs=["runs/imdb-lm", "runs/g2p", "runs/g2p-512"])  # kinds read, ensembles

`seqrnn.serve.app` needs the `serve` extra (FastAPI and uvicorn): pip install 'seqrnn[serve]'.
This package itself imports neither, so the CLI can build its parser without them; its limits
are `seqrnn.configs.ServeLimits`.
"""
