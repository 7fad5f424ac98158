import sys, numpy as np
from lsm_edge.data.dataset import Dataset
from lsm_edge.train import load_run
from lsm_edge.evaluate import evaluate_generative, model_method, Task, gain
from lsm_edge.data.windows import fill_linear
for run in sys.argv[1:]:
    model, stats, cfg = load_run(run)
    z = stats.normalize(Dataset("runs/ref/data").load("test").values[:512])
    tasks = [Task("interpolation", 60), Task("extrapolation", 60), Task("sensor", 60), Task("interpolation", 20)]
    res = evaluate_generative(z, {"linear": lambda z: fill_linear(z), "teacher": model_method(model)}, tasks, progress=False)
    g = gain(res, "teacher")
    print(run, " ".join(f"{t}: {res[t]['teacher']['mae']:.3f} ({100*g[t]:+.1f}%)" for t in res), flush=True)
