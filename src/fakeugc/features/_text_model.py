"""TextModelScore: a word n-gram text model whose out-of-fold score is one feature.

The booster should see the text without memorising it: a linear model over
hashed TF-IDF unigrams and bigrams of the jieba tokens (the same tokens
:class:`fakeugc.features._text.TokenizeText` produced, so English works too) is
trained inside the feature pipeline, and on the training rows its *out-of-fold*
prediction is what the booster sees (``fit_transform``). Later rows (validation,
scoring) get the prediction of the model trained on all training rows
(``transform``).

The score is the model's **log-odds** (logistic-regression decision function,
clipped to [-20, 20]): positive means the text looks more like the fake posts
of the training data, 0 is even odds at the training base rate. Posts with no
tokens, and every post when the model was fitted without two classes, get NaN.

Declared partnerships (``disclosed_partnership`` true: the post carries the
platform's brand-partnership label, a declared and authorised promotion by the
contract's own definition) are outside the text model's question, "does this read
like undeclared seeding?": advertising copy is expected in an advertisement. They
are left out of its training and get NaN, so the booster judges them on the other
signals (fake accounts, bought exposure, coordination still show). Without this, a
declared post was flagged about three times as often as an ordinary genuine post,
almost entirely through this score (issue 3).

Hashing (``HashingVectorizer`` + ``TfidfTransformer``) keeps memory bounded
whatever the vocabulary; :meth:`TextModelScore.top_terms` recovers the n-grams
of one post that pushed its score most by hashing that post's own n-grams.
"""

from __future__ import annotations

import functools
import gc
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from itertools import chain

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import murmurhash3_32
from sklearn.utils.validation import check_is_fitted

from fakeugc.features._catalogue import feature
from fakeugc.features._exposure import bool_float
from fakeugc.features._lexicon import lexicon_words
from fakeugc.features._text import Segmenter, normalise_text, post_text

F_TEXT_SCORE = feature(
    "text_model_score", "content",
    "Word n-gram text model score (log-odds that the text is from a fake post; "
    "out-of-fold on training data)",
    "text is closer to known fake/seeding posts than most (text-model log-odds "
    "{value:+.1f})",
    "text resembles genuine posts (text-model log-odds {value:+.1f})",
)

FEATURES = (F_TEXT_SCORE,)

_CLIP = 20.0
_BIGRAM_SEP = " "


def _token_list(v) -> list[str]:
    """A post's tokens as a list of non-blank strings (TokenizeText's lists pass as they
    are; arrays from a Parquet round trip and odd values are cleaned)."""
    if isinstance(v, list):
        if set(map(type, v)) <= {str}:
            return v
    elif not isinstance(v, tuple | np.ndarray):
        return []
    return [str(t) for t in v if t is not None and str(t).strip()]


def token_ngrams(tokens, ngram_range: tuple[int, int] = (1, 2)) -> list[str]:
    """Word n-grams of a token list (n-grams joined by a space)."""
    return _ngrams(_token_list(tokens), ngram_range)


def _ngrams(toks: list[str], ngram_range: tuple[int, int]) -> list[str]:
    lo, hi = ngram_range
    out: list[str] = []
    for k in range(max(1, lo), hi + 1):
        if k == 1:
            out.extend(toks)
        elif k == 2:
            out.extend([a + _BIGRAM_SEP + b for a, b in zip(toks, toks[1:], strict=False)])
        elif len(toks) >= k:
            out.extend(_BIGRAM_SEP.join(toks[i : i + k]) for i in range(len(toks) - k + 1))
    return out


def _hash_index(strings, n_features: int) -> np.ndarray:
    """FeatureHasher's column for each string (signed MurmurHash3, seed 0, abs, mod),
    including its special case for -2**31."""
    h = np.fromiter((murmurhash3_32(x, seed=0, positive=False) for x in strings),
                    dtype=np.int64, count=len(strings))
    special = (2**31 - 1 - (n_features - 1)) % n_features
    return np.where(h == -(2**31), special, np.abs(h) % n_features).astype(np.int64)


def _ngram_slots(tokens: list[list[str]], n_features: int, ngram_range: tuple[int, int]):
    """Every unigram and bigram occurrence of every row, in CSR order (each row's
    unigrams, then its bigrams): ``(indptr, columns, gram_ids, grams)``, ``grams``
    holding each distinct n-gram once (``gram_ids`` index it). Each distinct n-gram is
    hashed once: a night repeats a small vocabulary."""
    lo, hi = int(ngram_range[0]), int(ngram_range[1])
    n = len(tokens)
    lens = np.fromiter(map(len, tokens), dtype=np.int64, count=n)
    total = int(lens.sum())
    n_uni = lens if lo == 1 else np.zeros(n, dtype=np.int64)
    n_bi = np.maximum(lens - 1, 0) if hi == 2 else np.zeros(n, dtype=np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(n_uni + n_bi, out=indptr[1:])
    columns = np.empty(int(indptr[-1]), dtype=np.int32)
    gram_ids = np.empty(int(indptr[-1]), dtype=np.int64)
    grams: list[str] = []
    if total:
        flat = np.fromiter(chain.from_iterable(tokens), dtype=object, count=total)
        codes, uniq = pd.factorize(flat)
        codes = codes.astype(np.int64)
        row_of = np.repeat(np.arange(n), lens)
        pos = np.arange(total) + (indptr[:-1] - (np.cumsum(lens) - lens))[row_of]  # CSR slot
        if lo == 1:
            grams = [str(u) for u in uniq]
            columns[pos] = _hash_index(grams, n_features)[codes]
            gram_ids[pos] = codes
        if hi == 2 and total > 1:
            j = np.flatnonzero(row_of[:-1] == row_of[1:])  # bigram (j, j + 1) in one row
            pcodes, puniq = pd.factorize(codes[j] * len(uniq) + codes[j + 1])
            bigrams = [a + _BIGRAM_SEP + b for a, b in
                       zip(uniq[puniq // len(uniq)], uniq[puniq % len(uniq)], strict=True)]
            slots = pos[j] + n_uni[row_of[j]]
            columns[slots] = _hash_index(bigrams, n_features)[pcodes]
            gram_ids[slots] = len(grams) + pcodes
            grams = grams + bigrams
    return indptr, columns, gram_ids, grams


def hashed_ngram_counts(tokens: list[list[str]], n_features: int,
                        ngram_range: tuple[int, int] = (1, 2)):
    """The matrix ``HashingVectorizer(analyzer=_NgramAnalyzer(ngram_range),
    n_features=n_features, alternate_sign=False, norm=None)`` gives for ``tokens``,
    for unigrams and bigrams, built faster: each distinct token and bigram is hashed
    once (the vectorizer hashes every occurrence, ~60% of the text model's time).
    Other n-gram ranges use the vectorizer.
    """
    import scipy.sparse as sp

    if not (1 <= int(ngram_range[0]) <= int(ngram_range[1]) <= 2):
        vec = HashingVectorizer(analyzer=_NgramAnalyzer(ngram_range), n_features=n_features,
                                alternate_sign=False, norm=None, lowercase=False)
        return vec.transform(tokens)
    indptr, columns, _, _ = _ngram_slots(tokens, n_features, ngram_range)
    X = sp.csr_matrix((np.ones(len(columns)), columns, indptr), shape=(len(tokens), n_features))
    X.sum_duplicates()  # also sorts the indices, as the vectorizer's output
    return X


def group_folds(groups: np.ndarray, y: np.ndarray, n_splits: int, random_state: int = 0):
    """(train, test) index pairs in which no group is split across folds.

    Groups are shuffled, ordered by their positive share and dealt to the folds
    in turn, so every fold gets a similar mix of mostly-fake and mostly-genuine
    authors (approximately stratified). O(n log n), unlike sklearn's
    ``StratifiedGroupKFold``, whose search is slow with 100k+ authors.
    """
    codes, inverse = np.unique(groups, return_inverse=True)
    size = np.bincount(inverse, minlength=len(codes)).astype(float)
    pos = np.bincount(inverse, weights=y.astype(float), minlength=len(codes))
    share = pos / np.maximum(size, 1.0)
    rng = np.random.default_rng(random_state)
    order = np.lexsort((rng.random(len(codes)), share))
    fold_of_group = np.empty(len(codes), dtype=np.int64)
    fold_of_group[order] = np.arange(len(codes)) % n_splits
    fold = fold_of_group[inverse]
    for k in range(n_splits):
        yield np.flatnonzero(fold != k), np.flatnonzero(fold == k)


#: processes fitting the text model's folds in ``fit_transform`` (the all-rows model and
#: the fold models are independent fits of single-threaded liblinear); 1 = in process
FIT_WORKERS = 2
#: fewer labelled rows than this are fitted in process (a fork costs more than it saves)
PARALLEL_MIN_ROWS = 20_000

# the fits of one fit_transform, read by the forked workers (set only around the pool)
_FORK_JOBS = None


def _run_forked(i: int):
    return _FORK_JOBS[i]()


def run_fits(jobs: list, workers: int):
    """``[job() for job in jobs]``, in up to ``workers`` forked processes when there is more
    than one job and ``fork`` exists (liblinear's random generator is global to a
    process, so threads would mix the fits' draws: processes keep each fit exactly what
    it is in process). The workers inherit the jobs' data rather than receiving a copy;
    the parent's objects are frozen out of the collector meanwhile, so the workers do
    not copy their memory pages by collecting them. Results come back in job order."""
    global _FORK_JOBS
    if workers < 2 or len(jobs) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [job() for job in jobs]
    frozen = gc.get_freeze_count() > 0
    _FORK_JOBS = jobs
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(_run_forked, range(len(jobs))))
    finally:
        _FORK_JOBS = None
        if not frozen:
            gc.unfreeze()


class _NgramAnalyzer:
    """Picklable analyzer for the hashing vectorizer (a token list in, n-grams out)."""

    def __init__(self, ngram_range=(1, 2)):
        self.ngram_range = tuple(ngram_range)

    def __call__(self, tokens) -> list[str]:
        # fed by TextModelScore._tokens, which has already cleaned the lists
        return _ngrams(tokens, self.ngram_range)


class TextModelScore(TransformerMixin, BaseEstimator):
    """Out-of-fold text-model score (log-odds) as one feature, ``text_model_score``.

    Parameters
    ----------
    n_splits : int
        Folds for the out-of-fold score of ``fit_transform``.
    random_state : int
        Seed of the fold assignment (and of the solver).
    C : float
        Inverse L2 regularisation strength of the logistic regression.
    n_features : int
        Hashing space for the n-grams.
    ngram_range : tuple of int
        Word n-gram sizes (unigrams and bigrams by default).
    class_weight : dict, "balanced" or None
        Passed to the logistic regression.
    group_column : str
        Column whose values must not be split across folds (the author:
        posts of one account share phrasing, and a random split would leak it).
    declared_column : str or None
        Boolean column marking declared brand partnerships: those rows are not
        trained on and score NaN (see the module docstring). ``None`` scores every row.
    hard_case_weight : float
        Training weight of genuine rows (label 0) that ``hard_case_column`` marks as
        a hard case (launch burst, viral post, ...): the cost-sensitive weighting the
        booster gets (``hard_negative_weight`` in pipelines/train.yaml), so the text
        model does not learn "enthusiastic about a new product" as "seeding" either.
        1 = off. Fit-time only.
    hard_case_column : str or None
        The labels' hard-case column (non-empty string = a hard case).

    Attributes
    ----------
    vectorizer_ : HashingVectorizer
    tfidf_ : TfidfTransformer
        Fitted on all training rows.
    model_ : LogisticRegression or None
        Trained on all training rows; ``None`` when ``y`` was absent or had one class.
    oof_ : ndarray
        The out-of-fold scores of the last ``fit_transform`` (NaN where none).
    folds_ : int
        Folds actually used by the last ``fit_transform`` (0 when none).
    segmenter_ : Segmenter
        Only used when a frame comes without a ``tokens`` column.
    """

    #: models pickled before ``declared_column`` existed scored every row: keep that
    declared_column: str | None = None
    hard_case_weight: float = 1.0
    hard_case_column: str | None = None

    def __init__(
        self,
        n_splits: int = 5,
        random_state: int = 0,
        C: float = 4.0,
        n_features: int = 2**20,
        ngram_range: tuple[int, int] = (1, 2),
        class_weight=None,
        group_column: str = "account_id",
        declared_column: str | None = "disclosed_partnership",
        hard_case_weight: float = 1.0,
        hard_case_column: str | None = "hard_case",
    ):
        self.n_splits = n_splits
        self.random_state = random_state
        self.C = C
        self.n_features = n_features
        self.ngram_range = ngram_range
        self.class_weight = class_weight
        self.group_column = group_column
        self.declared_column = declared_column
        self.hard_case_weight = hard_case_weight
        self.hard_case_column = hard_case_column

    # -- helpers -------------------------------------------------------------------
    def _tokens(self, X: pd.DataFrame) -> list[list[str]]:
        if "tokens" in X.columns:
            return [_token_list(t) for t in X["tokens"].tolist()]
        seg = getattr(self, "segmenter_", None) or Segmenter(tuple(lexicon_words()))
        if "text_norm" in X.columns:
            norm = ["" if not isinstance(t, str) else t for t in X["text_norm"].tolist()]
        elif "title" in X.columns or "body" in X.columns:
            frame = X
            if "title" not in X.columns or "body" not in X.columns:
                frame = X.assign(**{c: "" for c in ("title", "body") if c not in X.columns})
            norm = [normalise_text(t) for t in post_text(frame).tolist()]
        else:
            norm = [""] * len(X)
        return [seg.cut(t) for t in norm]

    def _make_vectorizer(self) -> HashingVectorizer:
        return HashingVectorizer(
            analyzer=_NgramAnalyzer(self.ngram_range),
            n_features=self.n_features,
            alternate_sign=False,
            norm=None,
            lowercase=False,
        )

    def _counts(self, tokens: list[list[str]]):
        """``vectorizer_.transform(tokens)``, computed by :func:`hashed_ngram_counts`."""
        return hashed_ngram_counts(tokens, self.vectorizer_.n_features,
                                   tuple(self.vectorizer_.analyzer.ngram_range))

    def _make_model(self) -> LogisticRegression:
        return LogisticRegression(
            C=self.C,
            class_weight=self.class_weight,
            solver="liblinear",
            dual=True,  # 40x faster than the primal when n-grams outnumber posts
            max_iter=1000,
            random_state=self.random_state,
        )

    @staticmethod
    def _labels(y, n: int) -> np.ndarray | None:
        if y is None:
            return None
        arr = pd.to_numeric(pd.Series(np.asarray(y).ravel()), errors="coerce").to_numpy(float)
        if len(arr) != n:
            raise ValueError(f"y has {len(arr)} values for {n} rows")
        return arr

    def _groups(self, X: pd.DataFrame) -> np.ndarray | None:
        if self.group_column and self.group_column in X.columns:
            g = X[self.group_column]
            if g.notna().all():
                return g.astype(str).to_numpy()
        return None

    def _declared(self, X: pd.DataFrame) -> np.ndarray:
        """True where the post is a declared partnership (unknown counts as not)."""
        if not self.declared_column or self.declared_column not in X.columns:
            return np.zeros(len(X), dtype=bool)
        return bool_float(X[self.declared_column].to_numpy(dtype=object), len(X)) == 1.0

    def _weights(self, X: pd.DataFrame, labels: np.ndarray) -> np.ndarray:
        """Per-row training weight: ``hard_case_weight`` for labelled-genuine hard cases."""
        w = np.ones(len(X))
        col = self.hard_case_column
        if self.hard_case_weight != 1.0 and col and col in X.columns:
            hard = np.array([isinstance(v, str) and bool(v.strip())
                             for v in X[col].tolist()], dtype=bool)
            w[hard & (labels == 0)] = float(self.hard_case_weight)
        return w

    @staticmethod
    def _score(model, tfidf: TfidfTransformer, counts, empty: np.ndarray) -> np.ndarray:
        if counts.shape[0] == 0:
            return np.zeros(0)
        out = np.clip(model.decision_function(tfidf.transform(counts)), -_CLIP, _CLIP)
        out = out.astype(float)
        out[empty] = np.nan
        return out

    # -- fitting -------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y=None):
        self._fit(X, y, oof=False)
        return self

    def fit_transform(self, X: pd.DataFrame, y=None, **fit_params) -> pd.DataFrame:
        """Fit on all rows and return the OUT-OF-FOLD scores of those rows."""
        oof = self._fit(X, y, oof=True)
        return pd.DataFrame({F_TEXT_SCORE: oof}, index=X.index)

    def _fit(self, X: pd.DataFrame, y, oof: bool) -> np.ndarray:
        if not isinstance(X, pd.DataFrame):
            raise TypeError("TextModelScore expects the post frame (a pandas DataFrame)")
        n = len(X)
        self.segmenter_ = Segmenter(tuple(lexicon_words()))
        self.vectorizer_ = self._make_vectorizer()
        self.n_features_in_ = X.shape[1]
        tokens = self._tokens(X)
        counts = self._counts(tokens)
        declared = self._declared(X)
        # declared partnerships: not trained on, no score
        empty = np.fromiter((len(t) == 0 for t in tokens), dtype=bool, count=n) | declared
        labels = self._labels(y, n)
        if labels is not None:
            labels = np.where(declared, np.nan, labels)
        self.tfidf_ = TfidfTransformer(sublinear_tf=True).fit(counts)
        self.model_ = None
        self.folds_ = 0
        self.oof_ = np.full(n, np.nan)
        if labels is None:
            return self.oof_
        known = ~np.isnan(labels)
        yk = labels[known].astype(int)
        if len(np.unique(yk)) < 2:
            return self.oof_
        idx_known = np.flatnonzero(known)
        weight = self._weights(X, labels)

        def fit_all():
            return self._make_model().fit(self.tfidf_.transform(counts[idx_known]), yk,
                                          sample_weight=weight[idx_known])

        splits = self._splits(labels, known, self._groups(X)) if oof else None
        if not splits:  # no out-of-fold scores asked for, or too few groups or positives
            self.model_ = fit_all()
            return self.oof_
        # the all-rows model and the fold models are independent fits: one batch of jobs
        folds = [functools.partial(self._fold_scores, counts, yk, idx_known, empty, weight,
                                   tr, te) for tr, te in splits]
        workers = FIT_WORKERS if len(idx_known) >= PARALLEL_MIN_ROWS else 1
        model, *scores = run_fits([fit_all, *folds], workers)
        self.model_ = model
        self.oof_ = self._out_of_fold(counts, known, empty, splits, scores)
        return self.oof_

    def _splits(self, labels, known, groups) -> list[tuple[np.ndarray, np.ndarray]]:
        """The folds' (train, test) positions among the labelled rows; empty when there
        are too few groups or positives for two folds."""
        idx = np.flatnonzero(known)
        yk = labels[idx].astype(int)
        min_class = np.bincount(yk).min()
        if groups is not None:
            gk = groups[idx]
            n_splits = min(self.n_splits, len(np.unique(gk)), int(min_class))
            if n_splits < 2:
                return []
            return list(group_folds(gk, yk, n_splits, self.random_state))
        n_splits = min(self.n_splits, int(min_class))
        if n_splits < 2:
            return []
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True,
                                   random_state=self.random_state)
        return list(splitter.split(idx, yk))

    def _fold_scores(self, counts, yk, idx, empty, weight, tr, te) -> np.ndarray | None:
        """Scores of one fold's test rows by the model fitted on its other rows (None when
        those rows have one class)."""
        ytr = yk[tr]
        if len(np.unique(ytr)) < 2:
            return None
        tfidf = TfidfTransformer(sublinear_tf=True).fit(counts[idx[tr]])
        model = self._make_model().fit(tfidf.transform(counts[idx[tr]]), ytr,
                                       sample_weight=weight[idx[tr]])
        rows = idx[te]
        return self._score(model, tfidf, counts[rows], empty[rows])

    def _out_of_fold(self, counts, known, empty, splits, scores) -> np.ndarray:
        """The out-of-fold scores of every row from the folds' test-row ``scores``."""
        out = np.full(len(known), np.nan)
        idx = np.flatnonzero(known)
        for (_, te), score in zip(splits, scores, strict=True):
            if score is not None:
                out[idx[te]] = score
        # unlabelled training rows (y NaN) get the all-data model's score
        rest = np.flatnonzero(~known)
        if len(rest):
            out[rest] = self._score(self.model_, self.tfidf_, counts[rest], empty[rest])
        self.folds_ = len(splits)
        return out

    # -- transform -----------------------------------------------------------------
    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "vectorizer_")
        if self.model_ is None or len(X) == 0:
            return pd.DataFrame({F_TEXT_SCORE: np.full(len(X), np.nan)}, index=X.index)
        tokens = self._tokens(X)
        empty = np.fromiter((len(t) == 0 for t in tokens), dtype=bool, count=len(tokens))
        empty |= self._declared(X)
        counts = self._counts(tokens)
        score = self._score(self.model_, self.tfidf_, counts, empty)
        return pd.DataFrame({F_TEXT_SCORE: score}, index=X.index)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(FEATURES, dtype=object)

    # -- explanations --------------------------------------------------------------
    def top_terms(self, X, n: int = 5, towards: str = "fake") -> list[list[tuple[str, float]]]:
        """The n-grams that pushed each post's score most, with their contribution
        to the log-odds (tf-idf weight x coefficient), strongest first.

        ``X`` is a post frame (one or more rows), a single row (Series) or a token
        list. ``towards="fake"`` lists positive contributions, ``"genuine"``
        negative ones. Hash collisions can make two n-grams share a coefficient;
        each n-gram of the post is reported with its own column's weight.
        """
        check_is_fitted(self, "vectorizer_")
        if isinstance(X, pd.Series):
            X = X.to_frame().T
        elif isinstance(X, list | tuple) and (not X or isinstance(X[0], str)):
            X = pd.DataFrame({"tokens": [list(X)]})
        if self.model_ is None:
            return [[] for _ in range(len(X))]
        tokens = self._tokens(X)
        ngram_range = tuple(self.vectorizer_.analyzer.ngram_range)
        if not (1 <= ngram_range[0] <= ngram_range[1] <= 2):
            return self._top_terms_loop(tokens, n, towards)
        nf = self.vectorizer_.n_features
        indptr, cols, gids, grams = _ngram_slots(tokens, nf, ngram_range)
        rows = np.repeat(np.arange(len(tokens)), np.diff(indptr))
        # one slot per (row, distinct n-gram)
        _, first = np.unique(rows * max(len(grams), 1) + gids, return_index=True)
        rows, cols, gids = rows[first], cols[first], gids[first]
        # tf-idf weight of each slot's column in its row (W has sorted indices)
        W = self.tfidf_.transform(self._counts(tokens)).tocsr()
        w_rows = np.repeat(np.arange(W.shape[0]), np.diff(W.indptr))
        w_keys = w_rows.astype(np.int64) * nf + W.indices
        if len(W.data) == 0:
            return [[] for _ in range(len(tokens))]
        keys = rows.astype(np.int64) * nf + cols
        at = np.minimum(np.searchsorted(w_keys, keys), len(W.data) - 1)
        weight = np.where(w_keys[at] == keys, W.data[at], 0.0)
        contrib = weight * self.model_.coef_.ravel()[cols]
        sign = 1.0 if towards == "fake" else -1.0
        keep = sign * contrib > 0
        rows, gids, contrib = rows[keep], gids[keep], contrib[keep]
        # strongest first; ties in n-gram order
        rank = np.empty(len(grams), dtype=np.int64)
        rank[np.argsort(np.asarray(grams, dtype=object), kind="stable")] = np.arange(len(grams))
        order = np.lexsort((rank[gids], -sign * contrib, rows))
        out: list[list[tuple[str, float]]] = [[] for _ in range(len(tokens))]
        for r, g, v in zip(rows[order].tolist(), gids[order].tolist(),
                           contrib[order].tolist(), strict=True):
            if len(out[r]) < n:
                out[r].append((grams[g], float(v)))
        return out

    def _top_terms_loop(self, tokens, n: int, towards: str) -> list[list[tuple[str, float]]]:
        """:meth:`top_terms` one row at a time (n-gram ranges beyond bigrams)."""
        weights = self.tfidf_.transform(self.vectorizer_.transform(tokens)).tocsr()
        coef = self.model_.coef_.ravel()
        hasher = FeatureHasher(n_features=self.n_features, input_type="string",
                               alternate_sign=False)
        sign = 1.0 if towards == "fake" else -1.0
        out = []
        for i, toks in enumerate(tokens):
            grams = sorted(set(token_ngrams(toks, tuple(self.ngram_range))))
            if not grams:
                out.append([])
                continue
            cols = hasher.transform([[g] for g in grams]).tocsr().indices
            row = weights.getrow(i)
            w = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
            contrib = [(g, w.get(c, 0.0) * coef[c]) for g, c in zip(grams, cols.tolist(),
                                                                     strict=True)]
            contrib = [(g, v) for g, v in contrib if sign * v > 0]
            contrib.sort(key=lambda gv: -sign * gv[1])
            out.append([(g, float(v)) for g, v in contrib[:n]])
        return out
