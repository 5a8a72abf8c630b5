"""`prune` with `block_size`: dense kernels pruned in whole blocks aligned with the generated C's
block-sparse layout (4 inputs x 4 units), conv kernels per weight; the sparsity target holds."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from test_compress_steps import kernels, load, run_chain, tiny_config, write_tiny_dataset
from tinyeit.codegen import weight_formats as wf
from tinyeit.compress.prune import block_size
from tinyeit.errors import TinyEitError


@pytest.mark.slow
def test_block_pruning_zeroes_whole_aligned_blocks(tmp_path):
    write_tiny_dataset(tmp_path / "dataset.npz")
    config = tiny_config()
    config["steps"]["baseline"]["dense_units"] = [32, 16]
    run_chain(tmp_path, "baseline", config)
    blocked = copy.deepcopy(config)
    blocked["steps"]["prune"]["block_size"] = [4, 4]
    run_chain(tmp_path, "baseline+prune", blocked)
    for name in ("fold0", "full"):
        ks = kernels(load(tmp_path / "baseline+prune" / f"{name}.h5"))
        zeros = sum(int(np.sum(k == 0)) for k in ks.values())
        assert abs(zeros / sum(k.size for k in ks.values()) - 0.6) <= 0.01, name
        for layer, k in ks.items():
            if k.ndim != 2:
                continue
            rows = k.T  # [units, inputs], as the .tflite stores it
            mask = wf.group_mask(rows)
            # every 4 x 4 block is either all zero or kept; the zeros are whole blocks
            full = rows[:mask.shape[0] * 4, :mask.shape[1] * 4]
            kept = np.kron(mask, np.ones((4, 4), bool))
            assert not np.any(full[~kept]), (name, layer)
            if layer == "dense0":
                assert wf.block_density(rows) == pytest.approx(0.4, abs=0.05), (name, layer)


def test_block_size_is_checked():
    assert block_size({}) == (1, 1)
    assert block_size({"block_size": [4, 4]}) == (4, 4)
    for bad in ([4], [0, 4], "4x4", [4, True]):
        with pytest.raises(TinyEitError, match="steps.prune.block_size"):
            block_size({"block_size": bad})
