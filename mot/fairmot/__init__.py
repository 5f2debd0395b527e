"""FairMOT (Zhang et al., IJCV 2021): one-shot detection + 128-d identity embedding (see model.py)."""
