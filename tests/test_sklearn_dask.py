"""A GridSearchCV over chainrule estimators on a dask.distributed cluster, via joblib's backend.

The search runs in a child process with a hard timeout, so a stuck cluster fails the test
instead of hanging the suite, and the cluster's threads never outlive it.
"""

import json
import subprocess
import sys

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("dask")
pytest.importorskip("distributed")

SCRIPT = """
import json, warnings
import joblib
from distributed import Client, LocalCluster, get_task_stream
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from chainrule.interop.sklearn import MLPClassifier

warnings.simplefilter("ignore", ConvergenceWarning)
X, y = make_blobs(120, centers=3, random_state=0)
mlp = MLPClassifier((16,), max_iter=40, learning_rate_init=0.01, random_state=0)
pipe = make_pipeline(StandardScaler(), mlp)
search = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-1]}, cv=2, error_score="raise")
with LocalCluster(
    n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
) as cluster, Client(cluster, timeout="20s") as client:
    with get_task_stream(client) as tasks, joblib.parallel_config(backend="dask"):
        search.fit(X, y)
print(json.dumps({"tasks": len(tasks.data), "fits": len(search.cv_results_["params"]) * 2,
                  "best_score": search.best_score_}))
"""


def test_grid_search_on_a_local_dask_cluster(tmp_path):
    script = tmp_path / "search.py"
    script.write_text(SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=90, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["tasks"] >= 1, "no task ran on the dask cluster"
    assert result["best_score"] > 0.8
