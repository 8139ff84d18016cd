"""NASTextClassifier, NASTextRegressor and the text adapter, on real SMS and EmoBank texts."""

import pickle
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split

import sknas
from sknas import NASTextClassifier, NASTextRegressor
from sknas.data import TextAdapter
from sknas.training import log_count_ratios

from .checks import CHECKS, assert_network_probabilities

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"
FAST = {"max_trials": 1, "epochs": 2, "random_state": 0}


@pytest.fixture(scope="module")
def sms():
    frame = pd.read_csv(
        DATA / "sms-spam" / "SMSSpamCollection", sep="\t", names=["label", "text"], quoting=3
    )
    frame = frame.head(800)
    return frame["text"].tolist(), frame["label"].to_numpy()


@pytest.fixture(scope="module")
def emobank():
    frame = pd.read_csv(DATA / "emobank" / "emobank.csv").dropna(subset=["text"]).head(600)
    return frame["text"].tolist(), frame["V"].to_numpy()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("make", [NASTextClassifier, NASTextRegressor])
def test_sklearn_contract_on_texts(make, check, sms, emobank):
    X, y = sms if make is NASTextClassifier else emobank
    check(make(**FAST), np.array(X[:200], dtype=object), y[:200])


def test_spam_classifier_learns_with_string_labels(sms):
    X, y = sms
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    clf = NASTextClassifier(max_trials=1, epochs=5, random_state=0).fit(X_train, y_train)
    assert clf.classes_.tolist() == ["ham", "spam"]
    assert clf.score(X_test, y_test) > 0.93
    assert set(clf.predict(["a new message", ""])) <= {"ham", "spam"}
    node = clf.best_architecture_.nodes[0]
    assert node.type == "text_input" and node.config["representation"] == "ngram"


class SequenceFamily(NASTextClassifier):
    """The text classifier with its space narrowed to one sequence family."""

    family = "cnn"

    def _default_graph(self):
        inp = sknas.TextInput(representation="sequence", sequence_length=32)
        head = sknas.ClassificationHead()(sknas.TextBlock(block_type=self.family)(inp))
        return sknas.space.Graph(inp, head)


@pytest.mark.parametrize("family", ["cnn", "rnn", "transformer"])
def test_sequence_models_train_on_raw_text(sms, family):
    X, y = sms
    clf = type("Narrowed", (SequenceFamily,), {"family": family})(
        max_trials=1, epochs=1, random_state=0
    )
    clf.fit(X[:200], y[:200])
    types = {n.type for n in clf.best_architecture_.nodes}
    assert {"embedding", f"{family.replace('cnn', 'conv')}_block", "temporal_reduction"} <= types
    assert_network_probabilities(clf, ["unseen words zyxwv \N{GRINNING FACE}", *X[200:210]])


def test_text_regressor_on_emobank_valence(emobank):
    X, y = emobank
    reg = NASTextRegressor(max_trials=1, epochs=10, random_state=0).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == (len(X),)
    assert reg.score(X, y) > 0.2
    assert abs(pred.mean() - y.mean()) < 0.5 * y.std()


class NgramRegressor(NASTextRegressor):
    """The text regressor with its space narrowed to character n-grams: its trials share
    one preprocessing, and so may be averaged."""

    def _default_graph(self):
        inp = sknas.TextInput(representation="ngram", analyzer="char_wb", max_tokens=2000)
        return sknas.space.Graph(inp, sknas.RegressionHead()(sknas.DenseBlock()(inp)))


def test_a_text_ensemble_is_refit_on_every_row_by_default(emobank):
    X, y = emobank
    # a seed whose best trials differ enough to be averaged
    reg = NgramRegressor(max_trials=4, epochs=3, random_state=4).fit(X, y)
    assert reg.refit == "members"
    assert len(reg.ensemble_.members) > 1 and reg.refit_status_ == "refit"
    # the preprocessing too is fitted again on every row, the validation rows included
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), max_features=2000)
    assert reg.input_adapters_[0].vectorizer_.vocabulary_ == vectorizer.fit(X).vocabulary_
    kept = NgramRegressor(max_trials=4, epochs=3, random_state=4, refit=True).fit(X, y)
    assert kept.ensemble_ == reg.ensemble_ and kept.refit_status_ == "trial_weights"
    assert kept.input_adapters_[0].vectorizer_.vocabulary_ != vectorizer.vocabulary_


def test_awkward_texts_work(sms):
    X, y = sms
    odd = ["", "\N{PILE OF POO} \N{SNOWMAN}", "Ünïcödé façade naïve", "word " * 5000]
    clf = NASTextClassifier(**FAST).fit(X[:100] + odd, list(y[:100]) + ["ham"] * 4)
    assert_network_probabilities(clf, odd)


def test_preprocessing_travels_with_the_pickle_and_joblib(sms, tmp_path):
    X, y = sms
    clf = NASTextClassifier(**FAST).fit(X[:200], y[:200])
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(
        restored.predict_proba(["a new message"]), clf.predict_proba(["a new message"])
    )
    assert not hasattr(restored.input_adapter_, "texts_")
    joblib.dump(clf, tmp_path / "spam.joblib")
    loaded = joblib.load(tmp_path / "spam.joblib")
    np.testing.assert_array_equal(loaded.predict(X[:20]), clf.predict(X[:20]))


def test_grid_search_over_a_text_estimator(sms):
    X, y = sms
    grid = GridSearchCV(
        NASTextClassifier(**FAST), {"validation_split": [0.2, 0.3]}, cv=2, error_score="raise"
    )
    grid.fit(X[:200], y[:200])
    # 83.5% of these messages are ham: a broken label decoding would score near 16%
    assert (grid.cv_results_["mean_test_score"] > 0.75).all()
    assert grid.score(X[200:400], y[200:400]) > 0.75


@pytest.mark.parametrize(
    "bad, message",
    [
        (["fine", 3, "also fine"], r"X\[1\] is int 3, not a string"),
        (["fine", None], r"X\[1\] is NoneType None"),
        ("just one string", "single string"),
        (np.array([["a", "b"], ["c", "d"]]), "1-D sequence of strings"),
        ([], "0 sample"),
    ],
)
def test_bad_texts_are_clear_errors(bad, message):
    y = list(range(len(bad))) if len(bad) and not isinstance(bad, str) else [0, 1]
    with pytest.raises(ValueError, match=message):
        NASTextClassifier(**FAST).fit(bad, y)


def test_adapter_vectorizes_each_configuration_once():
    texts = ["the cat sat", "the dog ran", "a cat ran", "dogs and cats"]
    adapter = TextAdapter().fit(texts)
    ngram = {"representation": "ngram", "analyzer": "word", "max_tokens": 100}
    sequence = {
        "representation": "sequence",
        "units": "word",
        "max_tokens": 3,
        "sequence_length": 4,
    }
    assert adapter.info_for(ngram).meta["representation"] == "ngram"
    ids = adapter.transform(texts, sequence)
    assert ids.shape == (4, 4) and ids.dtype == np.int64
    assert adapter.info_for(sequence).meta["vocab_size"] == 5
    assert (ids[0, :3] > 0).all() and ids[0, 3] == 0
    assert adapter.transform(["zebra zebra"], sequence)[0, :2].tolist() == [1, 1]
    assert len(adapter.vectorizers_) == 2
    adapter.select(sequence)
    np.testing.assert_array_equal(adapter.transform(texts), ids)


def test_word_and_character_ngrams_side_by_side_share_the_vocabulary():
    texts = ["the cat sat", "the dog ran", "a cat ran", "dogs and cats"] * 5
    adapter = TextAdapter().fit(texts)
    both = {"representation": "ngram", "analyzer": "word+char", "max_tokens": 40}
    X = adapter.transform(texts, both)
    words = adapter.transform(texts, {**both, "analyzer": "word", "max_tokens": 20})
    chars = adapter.transform(texts, {**both, "analyzer": "char_wb", "max_tokens": 20})
    # each keeps at most half the tokens (these texts have fewer distinct word n-grams)
    assert chars.shape[1] == 20 and words.shape[1] <= 20
    assert adapter.info_for(both).shape == (words.shape[1] + 20,) == X.shape[1:]
    np.testing.assert_allclose(X.toarray(), np.hstack([words.toarray(), chars.toarray()]))


def test_hashed_ngrams_are_tfidf_weighted_bags_of_bucket_ids():
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

    from sknas.data.text import HASH_BUCKETS

    texts = ["the cat sat", "the cat ran", "", "the " * 5 + "dog"]
    adapter = TextAdapter().fit(texts)
    words = {"representation": "hashed", "analyzer": "word"}
    bags = adapter.transform(texts, words)
    # as wide as the most distinct n-grams of a training text: "the cat sat" has 5 ("the",
    # "cat", "sat", "the cat", "cat sat"), "the the the the the dog" only 4
    assert bags.shape == (4, 2, 5) and bags.dtype == np.float32
    info = adapter.info_for(words)
    assert info.shape == (2, 5) and info.meta["buckets"] == HASH_BUCKETS + 1
    ids, weights = bags[:, 0], bags[:, 1]
    assert ids.min() >= 0 and ids.max() <= HASH_BUCKETS and np.all(ids == ids.astype(int))
    assert not ids[2].any() and not weights[2].any(), "the empty text is all padding"
    assert np.all((ids == 0) == (weights == 0))
    np.testing.assert_allclose(weights[[0, 1, 3]].sum(axis=1), 1.0, rtol=1e-6)
    # the weights are scikit-learn's TF-IDF of the hashed counts, fitted on these texts
    hashed = HashingVectorizer(
        ngram_range=(1, 2), n_features=HASH_BUCKETS, alternate_sign=False, norm=None
    ).transform(texts)
    tfidf = TfidfTransformer(sublinear_tf=True, norm="l1").fit_transform(hashed).toarray()
    for row in range(4):
        kept = ids[row] > 0
        np.testing.assert_allclose(
            weights[row][kept], tfidf[row, ids[row][kept].astype(int) - 1], rtol=1e-5
        )
        assert kept.sum() == (tfidf[row] > 0).sum()
    # words and characters hash to separate ranges
    both = adapter.transform(texts, {"representation": "hashed", "analyzer": "word+char"})
    chars = both[0, 0][both[0, 0] > HASH_BUCKETS]
    assert set(both[0, 0][(both[0, 0] > 0) & (both[0, 0] <= HASH_BUCKETS)]) == set(ids[0][:5])
    assert len(chars) > 5 and chars.max() <= 2 * HASH_BUCKETS


def test_hashed_ngrams_keep_those_of_highest_weight_in_a_long_text():
    from sknas.data.text import MAX_NGRAMS

    rare = " ".join(f"w{i}" for i in range(MAX_NGRAMS))
    text = "often " * 30 + rare
    adapter = TextAdapter().fit([text])
    words = {"representation": "hashed", "analyzer": "word"}
    bag = adapter.transform([text], words)[0]
    assert bag.shape == (2, MAX_NGRAMS) and (bag[0] > 0).all()
    # one text, so one inverse document frequency: the two heaviest are "often" (30 times,
    # weight 1 + ln 30) and "often often" (29); the rest of the 1,026 n-grams are seen once
    # (twice where two share a bucket), so some of them are dropped
    often = adapter.transform(["often"], words)
    assert often[0, 0, 0] in bag[0]
    second, first = sorted(bag[1])[-2:]
    assert first / second == pytest.approx((1 + np.log(30)) / (1 + np.log(29)), rel=1e-5)
    assert first / sorted(bag[1])[0] == pytest.approx(1 + np.log(30), rel=1e-5)
    assert bag[1].sum() == pytest.approx(1.0)


def test_subword_units_spell_unseen_words_out_of_known_pieces():
    from sknas.data.text import OOV, PAD, TokenSequencer

    texts = ["the playing players played", "a player plays", "replay the plays"] * 20
    words = TokenSequencer(units="word", max_tokens=100, sequence_length=8).fit(texts)
    pieces = TokenSequencer(units="subword", max_tokens=100, sequence_length=8).fit(texts)
    unseen = ["replaying"]
    assert words.transform(unseen)[0, 0] == OOV
    ids = pieces.transform(unseen)[0]
    used = ids[ids != PAD]
    assert len(used) >= 2 and OOV not in used, "an unseen word is made of known pieces"
    assert used.max() < len(pieces.vocabulary_) + 2
    again = pickle.loads(pickle.dumps(pieces))
    np.testing.assert_array_equal(again.transform(unseen), pieces.transform(unseen))


def test_a_search_on_subword_sequences_saves_and_loads(sms, tmp_path):
    texts, labels = sms
    text = sknas.TextInput(representation="sequence", units="subword", max_tokens=500)
    out = sknas.TemporalReduction()(sknas.ConvBlock()(sknas.Embedding()(text)))
    model = sknas.AutoModel(
        inputs=text, outputs=sknas.ClassificationHead()(out), max_trials=1, epochs=3, random_state=0
    ).fit(texts[:400], labels[:400])
    assert model.best_architecture_.input_configs()[0]["units"] == "subword"
    assert model.score(texts[400:600], labels[400:600]) > 0.8
    sknas.save(model, tmp_path / "bundle")
    loaded = sknas.load(tmp_path / "bundle")
    np.testing.assert_array_equal(loaded.predict(texts[:50]), model.predict(texts[:50]))


def test_unknown_units_are_a_clear_error(sms):
    texts, labels = sms
    text = sknas.TextInput(representation="sequence", units="bytes")
    out = sknas.TemporalReduction()(sknas.Embedding()(text))
    model = sknas.AutoModel(inputs=text, outputs=sknas.ClassificationHead()(out), max_trials=1)
    with pytest.raises(sknas.GraphError, match="subword"):
        model.fit(texts[:100], labels[:100])


def _weighted_ngrams(**kwargs):
    inp = sknas.TextInput(representation="ngram", analyzer="word", max_tokens=300)
    linear = sknas.DenseBlock(num_layers=0)(sknas.NaiveBayesWeighting()(inp))
    out = sknas.ClassificationHead()(linear)
    return sknas.AutoModel(
        inputs=inp, outputs=out, max_trials=1, epochs=2, ensemble_size=1, random_state=0, **kwargs
    )


def test_naive_bayes_weights_come_from_the_rows_each_network_is_fitted_on(sms):
    """With cross-validation each fold's network weighs n-grams by the labels of its own
    training rows, never by those it is scored on; the refit final model by every row's."""
    X, y = sms[0][:300], sms[1][:300]
    codes = (y == "spam").astype(int)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    bagged = _weighted_ngrams(cv=folds).fit(X, y)
    assert bagged.refit_status_ == "bagged"
    tfidf = bagged.input_adapters_[0].vectorizer_.transform(X)
    members = bagged.model_.module_.members
    assert len(members) == len(folds)
    for member, (train, _) in zip(members, folds):
        expected = log_count_ratios(tfidf[train], codes[train])
        np.testing.assert_allclose(member.blocks["nb_weighting_1"].ratio, expected, rtol=1e-6)
    every = torch.tensor(log_count_ratios(tfidf, codes), dtype=torch.float32)
    assert not any(torch.allclose(m.blocks["nb_weighting_1"].ratio, every) for m in members)

    refit = _weighted_ngrams().fit(X, y)
    assert refit.refit_status_ == "refit"
    tfidf = refit.input_adapters_[0].vectorizer_.transform(X)
    np.testing.assert_allclose(
        refit.model_.module_.blocks["nb_weighting_1"].ratio,
        log_count_ratios(tfidf, codes),
        rtol=1e-6,
    )
    assert_network_probabilities(refit, X[:20])


def test_naive_bayes_weights_of_a_two_headed_model_come_from_its_heads_training_labels(sms):
    """With two inputs and two heads (data and targets keyed by name), the weighting on the
    classifier's branch is set from that head's labels on the rows trained on: here X, not
    the separate validation data, which a final model keeping its trial's weights holds."""
    texts, labels = sms[0][:300], sms[1][:300]
    lengths = np.array([[len(t)] for t in texts], dtype=float)
    message = sknas.TextInput(name="message", representation="ngram", max_tokens=300)
    size = sknas.TabularInput(name="size")
    spam = sknas.ClassificationHead(name="spam")(sknas.TextBlock(nb_weighting=True)(message))
    words = sknas.RegressionHead(name="words")(sknas.DenseBlock()(size))
    model = sknas.AutoModel(
        inputs=[message, size],
        outputs=[spam, words],
        max_trials=1,
        epochs=2,
        refit=False,
        ensemble_size=1,
        random_state=0,
    )
    X = {"message": texts[:200], "size": lengths[:200]}
    X_val = {"message": texts[200:], "size": lengths[200:]}
    y = {"spam": labels[:200], "words": lengths[:200, 0] / 10}
    y_val = {"spam": labels[200:], "words": lengths[200:, 0] / 10}
    model.fit(X, y, validation_data=(X_val, y_val))
    assert model.refit_status_ == "trial_weights"
    tfidf = model.input_adapters_[0].vectorizer_.transform(texts[:200])
    expected = log_count_ratios(tfidf, (labels[:200] == "spam").astype(int))
    layer = model.model_.module_.blocks["text_block_1__nb_weighting"]
    np.testing.assert_allclose(layer.ratio, expected, rtol=1e-6)
    # TF-IDF rows beside another input reach the network dense, at prediction too
    spam_pred, words_pred = model.predict(X_val)
    assert set(spam_pred) <= {"ham", "spam"} and words_pred.shape == (100,)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(again.predict_proba(X_val)[0], model.predict_proba(X_val)[0])


def test_naive_bayes_weights_of_a_multi_label_classifier(sms):
    """A multi-label head's 0/1 indicator matrix sets the ratios, each label against the
    rest."""
    X, y = sms[0][:240], sms[1][:240]
    labels = np.column_stack([y == "spam", [len(t) > 60 for t in X]]).astype(int)
    inp = sknas.TextInput(representation="ngram", analyzer="word", max_tokens=300)
    out = sknas.ClassificationHead(multi_label=True)(sknas.TextBlock(nb_weighting=True)(inp))
    model = sknas.AutoModel(
        inputs=inp, outputs=out, max_trials=1, epochs=2, ensemble_size=1, random_state=0
    ).fit(X, labels)
    assert model.refit_status_ == "refit"
    tfidf = model.input_adapters_[0].vectorizer_.transform(X)
    layer = model.model_.module_.blocks["text_block_1__nb_weighting"]
    np.testing.assert_allclose(layer.ratio, log_count_ratios(tfidf, labels), rtol=1e-6)
    assert not np.allclose(log_count_ratios(tfidf, labels), log_count_ratios(tfidf, labels[:, 0]))
