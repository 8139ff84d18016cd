"""Raw strings: TF-IDF n-gram vectors, hashed n-gram bags or token-id sequences, chosen per
trial."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import (
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.pipeline import FeatureUnion
from sklearn.utils.validation import check_is_fitted

from ..exceptions import InvalidInputError
from ..space.spec import TensorInfo

__all__ = ["TextAdapter"]

PAD, OOV = 0, 1
#: hash buckets per kind of n-gram (words, characters) in the hashed representation. The
#: kinds get separate ranges, so that the word "cat" and the characters "cat" of "cats" do
#: not share a vector; the ids travel as float32, exact below 2**24.
HASH_BUCKETS = 2**16
#: most n-grams kept per text in the hashed representation, those of highest weight first
MAX_NGRAMS = 512


class HashedNgrams(BaseEstimator, TransformerMixin):
    """Each text as a bag of hashed n-grams with weights, for an ``EmbeddingBag`` (fastText).

    The n-grams (word 1-2 grams, character 3-5 grams inside word boundaries, or both) are
    hashed by scikit-learn's ``HashingVectorizer`` into ``HASH_BUCKETS`` buckets per kind: no
    vocabulary is learned and no n-gram is out of vocabulary. They are weighted by TF-IDF
    (sublinear term frequency, the training texts' inverse document frequency, scikit-learn's
    ``TfidfTransformer``), the weights of a text summing to one, so that the bag is a
    weighted average. A text keeps its ``width_`` n-grams of highest weight.

    Parameters
    ----------
    analyzer : {"word", "char_wb", "word+char"}
        The n-grams hashed.

    Attributes
    ----------
    n_buckets_ : int
        Buckets of all kinds of n-grams.
    width_ : int
        n-grams per text: the most a training text has, at most ``MAX_NGRAMS``.
    weighting_ : TfidfTransformer
        Inverse document frequencies of the buckets in the training texts.

    Notes
    -----
    ``transform`` returns float32 ``(n, 2, width_)``: bucket ids plus one (0 pads) and their
    weights (0 on padding, summing to 1 per non-empty text).
    """

    def __init__(self, analyzer: str = "word") -> None:
        self.analyzer = analyzer

    def _counts(self, texts: list[str]) -> Any:
        kinds = ["word", "char_wb"] if self.analyzer == "word+char" else [self.analyzer]
        counts = [
            HashingVectorizer(
                analyzer=kind,
                ngram_range=(1, 2) if kind == "word" else (3, 5),
                n_features=HASH_BUCKETS,
                alternate_sign=False,
                norm=None,
                dtype=np.float32,
            ).transform(texts)
            for kind in kinds
        ]
        return sparse.hstack(counts, format="csr")

    def fit(self, texts: list[str], y: Any = None) -> HashedNgrams:
        counts = self._counts(texts)
        self.n_buckets_ = counts.shape[1]
        self.weighting_ = TfidfTransformer(sublinear_tf=True, norm="l1").fit(counts)
        self.width_ = int(min(MAX_NGRAMS, max(1, np.diff(counts.indptr).max(initial=0))))
        return self

    def transform(self, texts: list[str]) -> np.ndarray:
        check_is_fitted(self)
        weights = self.weighting_.transform(self._counts(texts))
        bags = np.zeros((len(texts), 2, self.width_), dtype=np.float32)
        for row in range(len(texts)):
            start, end = weights.indptr[row], weights.indptr[row + 1]
            ids, shares = weights.indices[start:end], weights.data[start:end]
            if len(ids) > self.width_:
                kept = np.argsort(-shares, kind="stable")[: self.width_]
                ids, shares = ids[kept], shares[kept] / shares[kept].sum()
            bags[row, 0, : len(ids)] = ids + 1
            bags[row, 1, : len(ids)] = shares
        return bags


class TokenSequencer(BaseEstimator, TransformerMixin):
    """Token ids of fixed length from a fitted vocabulary.

    Id 0 pads, id 1 stands for tokens outside the vocabulary, known tokens start at 2.

    Parameters
    ----------
    units : {"word", "char", "subword"}
        Word tokens (scikit-learn's default token pattern, lowercased), characters, or
        subword units: a byte-pair-encoding model trained on the texts with SentencePiece, so
        that rare and unseen words are spelled out of known pieces instead of becoming
        out-of-vocabulary.
    max_tokens : int
        Vocabulary size: the most frequent tokens are kept (at most this many subword pieces,
        fewer when the texts do not have that many).
    sequence_length : int
        Tokens per text; longer texts are cut, shorter ones padded at the end.
    """

    def __init__(self, units: str = "word", max_tokens: int = 20000, sequence_length: int = 128):
        self.units = units
        self.max_tokens = max_tokens
        self.sequence_length = sequence_length

    def fit(self, texts: list[str], y: Any = None) -> TokenSequencer:
        if self.units == "subword":
            self.model_proto_ = _train_subwords(texts, self.max_tokens)
            pieces = self._subwords()
            self.vocabulary_ = {pieces.id_to_piece(i): i for i in range(2, pieces.get_piece_size())}
            return self
        analyzer = "word" if self.units == "word" else "char"
        self.counter_ = CountVectorizer(analyzer=analyzer, max_features=self.max_tokens)
        self.counter_.fit(texts)
        self.vocabulary_ = {t: i + 2 for i, t in enumerate(sorted(self.counter_.vocabulary_))}
        return self

    def _subwords(self) -> Any:
        """The SentencePiece model, loaded once from ``model_proto_``."""
        if getattr(self, "_pieces", None) is None:
            import sentencepiece

            self._pieces = sentencepiece.SentencePieceProcessor(model_proto=self.model_proto_)
        return self._pieces

    def __getstate__(self) -> dict[str, Any]:
        # the loaded model is rebuilt from its bytes; only those are saved
        state = super().__getstate__()
        state.pop("_pieces", None)
        return state

    def _token_ids(self, texts: list[str]) -> list[list[int]]:
        if self.units == "subword":
            return self._subwords().encode(texts)
        analyze = self.counter_.build_analyzer()
        return [[self.vocabulary_.get(t, OOV) for t in analyze(text)] for text in texts]

    def transform(self, texts: list[str]) -> np.ndarray:
        ids = np.full((len(texts), self.sequence_length), PAD, dtype=np.int64)
        for row, tokens in enumerate(self._token_ids(texts)):
            tokens = tokens[: self.sequence_length]
            ids[row, : len(tokens)] = tokens
        return ids


def _train_subwords(texts: list[str], max_tokens: int) -> bytes:
    """A byte-pair-encoding SentencePiece model of the texts, with ids 0 = pad, 1 = unknown."""
    import sentencepiece

    model = io.BytesIO()
    try:
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter([t for t in texts if t.strip()]),
            model_writer=model,
            vocab_size=max_tokens,
            hard_vocab_limit=False,
            model_type="bpe",
            character_coverage=1.0,
            pad_id=PAD,
            unk_id=OOV,
            bos_id=-1,
            eos_id=-1,
            num_threads=1,
            minloglevel=2,
        )
    except RuntimeError as exc:
        raise ValueError(f"cannot learn subword units: {exc}") from None
    return model.getvalue()


def _tfidf(analyzer: str, max_features: int) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=analyzer,
        ngram_range=(1, 2) if analyzer == "word" else (2, 5),
        max_features=max_features,
        sublinear_tf=True,
        dtype=np.float32,
    )


def _vectorizer(config: dict[str, Any]) -> BaseEstimator:
    if config["representation"] == "ngram":
        if config["analyzer"] == "word+char":
            half = max(1, config["max_tokens"] // 2)
            return FeatureUnion([("word", _tfidf("word", half)), ("char", _tfidf("char_wb", half))])
        return _tfidf(config["analyzer"], config["max_tokens"])
    if config["representation"] == "hashed":
        return HashedNgrams(config["analyzer"])
    return TokenSequencer(config["units"], config["max_tokens"], config["sequence_length"])


class TextAdapter(TransformerMixin, BaseEstimator):
    """Validate raw strings and turn them into numbers, one way per sampled configuration.

    During a search each trial's :class:`~sknas.TextInput` configuration gets its own
    vectorizer, fitted once on the training texts and shared by every trial that samples the
    same configuration. :meth:`select` keeps the best trial's vectorizer and forgets the rest
    (and the training texts).
    """

    def validate(self, X: Any) -> list[str]:
        """Return ``X`` as a list of str, or raise naming the first element that is not one."""
        if isinstance(X, str):
            raise InvalidInputError(
                "X must be a sequence of strings (a list, 1-D array or Series); received a "
                "single string. Wrap it in a list: [text]."
            )
        if hasattr(X, "toarray") or getattr(X, "ndim", 1) != 1:
            shape = getattr(X, "shape", None)
            raise InvalidInputError(
                f"X must be a 1-D sequence of strings; received {type(X).__name__} of shape "
                f"{shape}. Pass one text per sample, e.g. a list or a DataFrame column."
            )
        texts = list(X)
        if not texts:
            raise InvalidInputError("Found array with 0 sample(s); X needs at least one text.")
        for position, text in enumerate(texts):
            if not isinstance(text, str):
                raise InvalidInputError(
                    f"X[{position}] is {type(text).__name__} {text!r}, not a string. Every "
                    f"sample must be a str; convert or drop that row (a missing text can be '')."
                )
        return texts

    def fit(self, X: Any, y: Any = None) -> TextAdapter:
        self.texts_ = self.validate(X)
        self.vectorizers_: dict[str, BaseEstimator] = {}
        return self

    def _fitted(self, config: dict[str, Any]) -> BaseEstimator:
        if getattr(self, "config_", None) == config:
            return self.vectorizer_
        key = json.dumps(config, sort_keys=True)
        if key not in self.vectorizers_:
            try:
                self.vectorizers_[key] = _vectorizer(config).fit(self.texts_)
            except ValueError as exc:
                raise InvalidInputError(
                    f"cannot build a vocabulary from the training texts ({exc}); they need "
                    f"some words or characters."
                ) from None
        return self.vectorizers_[key]

    def info_for(self, config: dict[str, Any]) -> TensorInfo:
        """What the texts look like to the network under ``config``."""
        vectorizer = self._fitted(config)
        if config["representation"] == "ngram":
            width = len(vectorizer.get_feature_names_out())
            return TensorInfo("text", (width,), {"representation": "ngram"})
        if config["representation"] == "hashed":
            return TensorInfo(
                "text",
                (2, vectorizer.width_),
                {"representation": "hashed", "buckets": vectorizer.n_buckets_ + 1},
            )
        return TensorInfo(
            "text",
            (config["sequence_length"],),
            {"representation": "sequence", "vocab_size": len(vectorizer.vocabulary_) + 2},
        )

    def transform(self, X: Any, config: dict[str, Any] | None = None) -> Any:
        """Texts as a sparse TF-IDF matrix, hashed n-gram bags or an int64 id matrix.

        Parameters
        ----------
        X : sequence of str
            Texts.
        config : dict, optional
            A sampled TextInput configuration; None uses the selected one.
        """
        check_is_fitted(self)
        texts = self.validate(X)
        if config is None:
            check_is_fitted(self, "config_")
            return self.vectorizer_.transform(texts)
        return self._fitted(config).transform(texts)

    def select(self, config: dict[str, Any]) -> TextAdapter:
        """Keep the vectorizer of ``config`` for prediction; forget the others and the texts."""
        self.vectorizer_ = self._fitted(config)
        self.config_ = dict(config)
        self.info_ = self.info_for(config)
        del self.texts_, self.vectorizers_
        return self
