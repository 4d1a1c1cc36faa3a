"""The curriculum stays in step: exercises/ against solutions/, and solutions against numpy.

Three groups of tests:
1. Structure (ast, no import): both folders hold the same lesson files, with the
   same functions and signatures; every exercise body is the stub
   `# YOUR CODE HERE` + `raise NotImplementedError`; the exercise file is the
   solution file with the bodies taken out; provided helpers (names starting
   with "_") are identical in both.
2. Lesson shape: a module docstring, `from __future__ import annotations`, at
   least two `# ## ` section comments, and no forbidden shortcuts in the
   solutions of ex03, ex05 and ex06.
3. Values: the solutions, imported from solutions/, against references written
   here in numpy (and tf.GradientTape for ex06), including overflow cases.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf

from grader.course.toydata import RECOMMENDED_FIT, two_spirals

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = ROOT / "exercises"
SOLUTIONS = ROOT / "solutions"
LESSONS = [
    f"ex0{i}_{name}"
    for i, name in enumerate(
        [
            "tensors",
            "neuron",
            "activations",
            "layers",
            "stable_softmax",
            "backprop",
            "gradient_descent",
        ],
        start=1,
    )
]
STUB = ["# YOUR CODE HERE", "raise NotImplementedError"]


def lesson_files(folder: Path) -> set[str]:
    return {path.name for path in folder.glob("ex*.py")}


def functions(source: str) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}


def signature(node: ast.FunctionDef) -> str:
    return ast.dump(node.args) + " -> " + (ast.dump(node.returns) if node.returns else "None")


def lesson_text(source: str) -> str:
    """The source with every public function's body (after its docstring) replaced by the
    stub, and without imports or blank lines (an import may be needed only by the solution)."""
    lines = source.splitlines()
    stub = ["    " + line for line in STUB]
    cuts = [
        (node.body[0].end_lineno, node.end_lineno, stub)
        for node in functions(source).values()
        if not node.name.startswith("_")
    ]
    cuts += [
        (node.lineno - 1, node.end_lineno, [])
        for node in ast.parse(source).body
        if isinstance(node, (ast.Import, ast.ImportFrom))
    ]
    for start, end, replacement in sorted(cuts, reverse=True):
        lines[start:end] = replacement
    return "\n".join(line for line in lines if line.strip())


ALL_FILES = sorted(lesson_files(EXERCISES) | lesson_files(SOLUTIONS))


# ## 1. Structure


def test_both_folders_hold_the_same_lessons():
    assert lesson_files(EXERCISES) == lesson_files(SOLUTIONS)
    assert {f"{name}.py" for name in LESSONS} <= lesson_files(SOLUTIONS)


@pytest.mark.parametrize("filename", ALL_FILES)
def test_same_functions_and_signatures(filename):
    exercise = functions((EXERCISES / filename).read_text())
    solution = functions((SOLUTIONS / filename).read_text())
    assert exercise.keys() == solution.keys()
    for name in exercise:
        assert signature(exercise[name]) == signature(solution[name]), name
        assert ast.get_docstring(exercise[name]), f"{name} has no docstring"
        assert ast.get_docstring(exercise[name]) == ast.get_docstring(solution[name]), name


@pytest.mark.parametrize("filename", ALL_FILES)
def test_exercise_bodies_are_the_stub(filename):
    source = (EXERCISES / filename).read_text()
    lines = source.splitlines()
    for name, node in functions(source).items():
        if name.startswith("_"):
            continue  # a provided helper, checked below
        docstring, *rest = node.body
        assert isinstance(docstring, ast.Expr) and isinstance(docstring.value, ast.Constant)
        assert len(rest) == 1 and isinstance(rest[0], ast.Raise), name
        raised = rest[0].exc
        assert isinstance(raised, ast.Name) and raised.id == "NotImplementedError", name
        between = [line.strip() for line in lines[docstring.end_lineno : rest[0].lineno - 1]]
        assert between == [STUB[0]], f"{name}: expected only '{STUB[0]}' before the raise"


@pytest.mark.parametrize("filename", ALL_FILES)
def test_exercise_is_the_solution_with_the_bodies_taken_out(filename):
    exercise = (EXERCISES / filename).read_text()
    solution = (SOLUTIONS / filename).read_text()
    for name, node in functions(solution).items():
        if not name.startswith("_"):
            assert not isinstance(node.body[-1], ast.Raise), f"solution {name} is still a stub"
    assert lesson_text(exercise) == lesson_text(solution)


# ## 2. Lesson shape


@pytest.mark.parametrize("folder", [EXERCISES, SOLUTIONS], ids=["exercises", "solutions"])
@pytest.mark.parametrize("filename", ALL_FILES)
def test_file_reads_like_a_lesson(folder, filename):
    source = (folder / filename).read_text()
    tree = ast.parse(source)
    assert ast.get_docstring(tree), "the file must open with a docstring"
    future = tree.body[1]
    assert isinstance(future, ast.ImportFrom) and future.module == "__future__"
    assert [alias.name for alias in future.names] == ["annotations"]
    sections = re.findall(r"^# ## \S", source, flags=re.MULTILINE)
    assert len(sections) >= 2, "at least two '# ## Section' comment blocks"
    assert len(source.splitlines()) <= 300, "keep a lesson to about 250 lines"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "tensorflow":
                    assert alias.asname == "tf", "import tensorflow as tf"


FORBIDDEN = {
    "ex03_activations.py": [
        "tf.nn.",
        "tf.math.sigmoid",
        "tf.math.tanh",
        "tf.tanh",
        "tf.sigmoid",
        "tf.math.softmax",
        "keras.",
    ],
    "ex05_stable_softmax.py": [
        "tf.nn.",
        "tf.math.softmax",
        "tf.reduce_logsumexp",
        "tf.math.reduce_logsumexp",
        "keras.",
    ],
    "ex06_backprop.py": ["tf.GradientTape", "tf.gradients", "tf.nn.", "keras."],
}


def dotted_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            parts, inner = [node.attr], node.value
            while isinstance(inner, ast.Attribute):
                parts.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name):
                names.add(".".join([inner.id, *reversed(parts)]) + ".")
    return names


@pytest.mark.parametrize("filename", sorted(FORBIDDEN))
def test_solutions_obey_their_own_rules(filename):
    used = dotted_names(ast.parse((SOLUTIONS / filename).read_text()))
    for shortcut in FORBIDDEN[filename]:
        assert not any(name.startswith(shortcut) for name in used), shortcut


def test_toydata_does_not_import_tensorflow():
    tree = ast.parse((ROOT / "grader" / "course" / "toydata.py").read_text())
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    imported += [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [name for name in imported if name and name.split(".")[0] in ("tensorflow", "keras")]


# ## 3. Values


def import_lessons(folder: Path):
    """Import the lesson modules by bare name from `folder`, then forget them again."""
    saved = {name: sys.modules.pop(name) for name in LESSONS if name in sys.modules}
    sys.path.insert(0, str(folder))
    try:
        modules = {name.split("_", 1)[0]: importlib.import_module(name) for name in LESSONS}
        for module in modules.values():
            assert Path(module.__file__).parent == folder
        yield SimpleNamespace(**modules)
    finally:
        sys.path.remove(str(folder))
        for name in LESSONS:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


def test_untouched_exercises_import_and_raise_not_implemented():
    for lessons in import_lessons(EXERCISES):
        for module in vars(lessons).values():
            for name, node in functions(Path(module.__file__).read_text()).items():
                if name.startswith("_"):
                    continue
                with pytest.raises(NotImplementedError):
                    getattr(module, name)(*[None] * len(node.args.args))


@pytest.fixture(scope="module")
def sol():
    """The solution modules, imported by bare name from solutions/, then forgotten."""
    yield from import_lessons(SOLUTIONS)


def identity(z):
    return z


def as_numpy(value) -> np.ndarray:
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def test_ex01_tensors(sol):
    vector, matrix, cube = sol.ex01.make_vector(), sol.ex01.make_matrix(), sol.ex01.make_cube()
    assert vector.dtype == tf.string and as_numpy(vector).tolist() == [c.encode() for c in "tensor"]
    pi = "314159265358979323846264"
    e = "27182818284590452353602874713526"
    assert matrix.dtype == tf.int32 and cube.dtype == tf.int32
    np.testing.assert_array_equal(as_numpy(matrix), np.array([int(d) for d in pi]).reshape(6, 4))
    np.testing.assert_array_equal(as_numpy(cube), np.array([int(d) for d in e]).reshape(4, 4, 2))
    assert as_numpy(matrix)[1].tolist() == [5, 9, 2, 6]
    assert sol.ex01.describe(matrix) == (2, (6, 4), "int32")
    assert sol.ex01.describe(vector) == (1, (6,), "string")
    assert sol.ex01.describe(cube) == (3, (4, 4, 2), "int32")
    assert sol.ex01.describe(tf.constant(1.5)) == (0, (), "float32")
    rank, shape, dtype = sol.ex01.describe(tf.zeros((2, 0, 3), tf.float64))
    assert (rank, shape, dtype) == (3, (2, 0, 3), "float64")
    assert type(rank) is int and all(type(length) is int for length in shape)
    assert type(dtype) is str


def numpy_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.mark.parametrize(
    "activation, reference",
    [
        (tf.math.sigmoid, numpy_sigmoid),
        (tf.nn.relu, lambda z: np.maximum(z, 0)),
        (tf.math.tanh, np.tanh),
        (identity, identity),
    ],
    ids=["sigmoid", "relu", "tanh", "identity"],
)
def test_ex02_neuron(sol, activation, reference):
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(1, 5)), rng.normal(size=(1, 5))
    b = rng.normal(size=(1, 1))
    expected = reference(x @ w.T + b)
    args = [tf.constant(v, tf.float32) for v in (x, w, b)]
    for neuron in (sol.ex02.neuron_sum, sol.ex02.neuron_matmul):
        result = as_numpy(neuron(*args, activation))
        assert result.shape == (1, 1)
        np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 5)])
def test_ex03_activations(sol, shape):
    rng = np.random.default_rng(3)
    x = rng.normal(scale=3.0, size=shape)
    x.flat[0], x.flat[-1] = 100.0, -100.0
    exps = np.exp(x - x.max(axis=-1, keepdims=True))
    references = {
        "sigmoid": numpy_sigmoid(x),
        "tanh": np.tanh(x),
        "relu": np.maximum(x, 0),
        "softmax": exps / exps.sum(axis=-1, keepdims=True),
    }
    for dtype in (tf.float32, tf.float64):
        for name, expected in references.items():
            result = as_numpy(getattr(sol.ex03, name)(tf.constant(x, dtype)))
            assert result.shape == shape and result.dtype == dtype.as_numpy_dtype, name
            assert np.all(np.isfinite(result)), name
            np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6, err_msg=name)


def test_ex04_layers(sol):
    rng = np.random.default_rng(4)
    x, W1, b1 = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=(4,))
    W2, b2 = rng.normal(size=(4, 2)), rng.normal(size=(2,))
    t = [tf.constant(v, tf.float32) for v in (x, W1, b1, W2, b2)]
    hidden = np.maximum(x @ W1 + b1, 0)
    layer = as_numpy(sol.ex04.dense(t[0], t[1], t[2], tf.nn.relu))
    np.testing.assert_allclose(layer, hidden, rtol=1e-5, atol=1e-6)
    output = as_numpy(sol.ex04.forward(t[0], [(t[1], t[2]), (t[3], t[4])], [tf.nn.relu, identity]))
    np.testing.assert_allclose(output, hidden @ W2 + b2, rtol=1e-5, atol=1e-5)

    params = sol.ex04.init_params([784, 128, 10], seed=0)
    assert [tuple(W.shape) + tuple(b.shape) for W, b in params] == [(784, 128, 128), (128, 10, 10)]
    for (W, b), fan_in in zip(params, (784, 128), strict=True):
        assert W.dtype == tf.float32 and b.dtype == tf.float32
        assert not np.any(as_numpy(b))
        assert abs(as_numpy(W).std() * np.sqrt(fan_in) - 1.0) < 0.1
    again = sol.ex04.init_params([784, 128, 10], seed=0)
    other = sol.ex04.init_params([784, 128, 10], seed=1)
    np.testing.assert_array_equal(as_numpy(params[0][0]), as_numpy(again[0][0]))
    assert not np.array_equal(as_numpy(params[0][0]), as_numpy(other[0][0]))


def numpy_log_softmax(x):
    x = np.asarray(x, np.float64)  # float64 has room for x - max at float32's extremes
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


BIG = float(np.finfo(np.float32).max)
CASES = {
    "random": np.random.default_rng(5).normal(scale=4.0, size=(4, 5)),
    "thousands": np.array([[1000.0, -1000.0], [-1000.0, 1000.0], [1000.0, 1000.0]]),
    "3.4e38": np.array([[3.4e38, -3.4e38], [-3.4e38, 3.4e38], [3.4e38, 3.4e38]]),
    "float32 max": np.array([[BIG, -BIG], [-BIG, BIG], [BIG, BIG], [-BIG, -BIG]]),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_ex05_stable_softmax(sol, case, dtype):
    x = CASES[case]
    logits = tf.constant(x, dtype)
    expected_log = numpy_log_softmax(x)
    expected_lse = x.max(-1) + np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1))
    labels = np.argmax(x, axis=-1)  # the likeliest class: its loss stays finite even at 3.4e38

    results = {
        "logsumexp": sol.ex05.logsumexp(logits),
        "softmax": sol.ex05.stable_softmax(logits),
        "log_softmax": sol.ex05.log_softmax(logits),
        "cross_entropy": sol.ex05.cross_entropy(logits, tf.constant(labels, tf.int64)),
    }
    for name, value in results.items():
        value = as_numpy(value)
        assert value.dtype == dtype.as_numpy_dtype, name
        assert not np.any(np.isnan(value)), name
    finite_log = expected_log >= -np.finfo(dtype.as_numpy_dtype).max  # else -inf in this dtype
    log_result = as_numpy(results["log_softmax"])
    np.testing.assert_allclose(
        log_result[finite_log], expected_log[finite_log], rtol=1e-5, atol=1e-5
    )
    assert np.all(log_result[~finite_log] == -np.inf)  # -6.8e38 is below float32's range
    np.testing.assert_allclose(as_numpy(results["softmax"]), np.exp(expected_log), atol=1e-6)
    np.testing.assert_allclose(as_numpy(results["logsumexp"]), expected_lse, rtol=1e-6)
    np.testing.assert_allclose(
        as_numpy(results["cross_entropy"]),
        -expected_log[np.arange(len(x)), labels].mean(),
        rtol=1e-5,
        atol=1e-6,
    )
    assert np.all(np.isfinite(as_numpy(results["softmax"])))
    assert (
        np.isfinite(as_numpy(results["cross_entropy"])) and np.ndim(results["cross_entropy"]) == 0
    )
    column_lse = as_numpy(sol.ex05.logsumexp(logits, axis=0))
    assert column_lse.shape == (x.shape[1],) and not np.any(np.isnan(column_lse))


def test_ex05_cross_entropy_against_the_wrong_class(sol):
    logits = tf.constant([[1000.0, -1000.0], [2.0, 1.0]])
    loss = as_numpy(sol.ex05.cross_entropy(logits, tf.constant([1, 1], tf.int32)))
    np.testing.assert_allclose(loss, (2000.0 + np.log1p(np.e)) / 2, rtol=1e-6)


def ex06_problem(m=6, n=3, h=4, k=3):
    rng = np.random.default_rng(6)
    params = {
        "W1": rng.normal(size=(n, h)),
        "b1": rng.normal(size=(h,)),
        "W2": rng.normal(size=(h, k)),
        "b2": rng.normal(size=(k,)),
    }
    params = {key: tf.constant(value, tf.float32) for key, value in params.items()}
    x = tf.constant(rng.normal(size=(m, n)), tf.float32)
    y = tf.constant(rng.integers(0, k, size=m), tf.int32)
    return params, x, y


def test_ex06_forward_loss_matches_numpy(sol):
    params, x, y = ex06_problem()
    p = {key: as_numpy(value).astype(np.float64) for key, value in params.items()}
    logits = numpy_sigmoid(as_numpy(x) @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    expected = -numpy_log_softmax(logits)[np.arange(6), as_numpy(y)].mean()
    loss, _ = sol.ex06.forward(params, x, y)
    assert np.ndim(loss) == 0
    np.testing.assert_allclose(as_numpy(loss), expected, rtol=1e-5)


def test_ex06_backward_matches_gradient_tape(sol):
    params, x, y = ex06_problem()
    variables = {key: tf.Variable(value) for key, value in params.items()}
    with tf.GradientTape() as tape:
        hidden = tf.sigmoid(x @ variables["W1"] + variables["b1"])
        logits = hidden @ variables["W2"] + variables["b2"]
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
    expected = tape.gradient(loss, variables)
    _, cache = sol.ex06.forward(params, x, y)
    grads = sol.ex06.backward(params, cache)
    assert set(grads) == {"W1", "b1", "W2", "b2"}
    for key in expected:
        got = as_numpy(grads[key])
        assert got.shape == tuple(params[key].shape), key
        np.testing.assert_allclose(got, as_numpy(expected[key]), rtol=1e-4, atol=1e-6, err_msg=key)


def test_ex07_sgd_step_returns_a_new_dict(sol):
    params = {"W": tf.constant([[1.0, 2.0]]), "b": tf.constant([0.5])}
    grads = {"W": tf.constant([[0.5, -1.0]]), "b": tf.constant([2.0])}
    updated = sol.ex07.sgd_step(params, grads, 0.1)
    assert updated is not params and set(updated) == {"W", "b"}
    np.testing.assert_allclose(as_numpy(updated["W"]), [[0.95, 2.1]], rtol=1e-6)
    np.testing.assert_allclose(as_numpy(updated["b"]), [0.3], rtol=1e-6)
    np.testing.assert_array_equal(as_numpy(params["W"]), [[1.0, 2.0]])


def test_two_spirals_data():
    x, y = two_spirals(400, seed=3)
    assert x.shape == (400, 2) and x.dtype == np.float32
    assert y.shape == (400,) and y.dtype == np.int32
    assert np.bincount(y).tolist() == [200, 200]
    assert np.abs(x).max() < 1.5
    again, other = two_spirals(400, seed=3), two_spirals(400, seed=4)
    np.testing.assert_array_equal(x, again[0])
    np.testing.assert_array_equal(y, again[1])
    assert not np.array_equal(x, other[0])


def test_ex07_fit_is_deterministic(sol):
    x, y = (tf.constant(v) for v in two_spirals(40, seed=0))
    first = sol.ex07.fit(x, y, hidden=4, lr=1.0, steps=3, seed=7)
    second = sol.ex07.fit(x, y, hidden=4, lr=1.0, steps=3, seed=7)
    assert first[1] == second[1] and len(first[1]) == 3
    assert all(type(loss) is float for loss in first[1])
    assert tuple(first[0]["W1"].shape) == (2, 4) and tuple(first[0]["W2"].shape) == (4, 2)


@pytest.mark.parametrize("seed", range(5))
def test_ex07_fit_learns_the_spirals(sol, seed):
    x, y = two_spirals(400, seed=seed)
    start = time.perf_counter()
    params, history = sol.ex07.fit(tf.constant(x), tf.constant(y), seed=seed, **RECOMMENDED_FIT)
    seconds = time.perf_counter() - start
    p = {key: as_numpy(value) for key, value in params.items()}
    scores = numpy_sigmoid(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    accuracy = (scores.argmax(axis=1) == y).mean()
    assert len(history) == RECOMMENDED_FIT["steps"] and history[-1] < history[0]
    assert accuracy >= 0.95, f"training accuracy {accuracy:.1%}"
    assert seconds < 10.0, f"fit took {seconds:.1f} s"
