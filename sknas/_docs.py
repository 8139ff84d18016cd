"""Parameter and attribute documentation shared by the estimators' docstrings."""

PARAMETERS_DOC = """
    Parameters
    ----------
    max_trials : int, optional
        Trials (architectures) to finish; with ``storage``, trials already in the study count.
        None means no cap when ``time_budget`` is given (the budget ends the search), and 20
        otherwise.
    time_budget : float, optional
        Wall-clock seconds of the whole ``fit``: preprocessing, search and final model. The
        search keeps the time the final model needs (estimated from the best trial's
        measured seconds per epoch; with ``refit="members"``, from those of the ensemble
        selected so far), stops starting trials when only that is left, and stops
        a running trial at that point; the refit is stopped at the budget's end and then the
        trials' own weights are used (``refit_status_`` says so). When the ensemble chosen at
        that point will not be refit (its members keep their trials' weights with
        ``refit=True``; with ``"members"``, when their refit would not end in time), the
        search goes on into the time it kept (in one process, ``n_jobs=1``) and the final
        model keeps its trials' weights. None means no limit.
    epochs : int, optional
        Epochs per trial. None trains up to a cap with early stopping (100 epochs and patience
        10 for tables, 50 and 5 for images, 30 and 4 for texts).
    batch_size : int, optional
        Fixed batch size; None searches 32 to 256.
    validation_split : float, default=0.2
        Share of the training rows held out (stratified for classifiers) to score trials;
        not used when ``cv`` cross-validates.
    objective : str or callable, optional
        sklearn scorer name (e.g. ``"accuracy"``, ``"roc_auc"``, ``"r2"``) or callable
        ``scorer(estimator, X, y)``, maximized on the validation data. None minimizes the
        validation loss.
    sampler : {"tpe", "random"} or optuna.samplers.BaseSampler, default="tpe"
        How trials choose their parameters. An instance is copied, never modified.
    pruner : {"median", "hyperband", "none"}, optuna.pruners.BasePruner or None, default="median"
        How unpromising trials are stopped early, from the score reported every epoch.
    storage : str or optuna storage, optional
        Where the study is kept: a database URL (``"sqlite:///search.db"``,
        ``"postgresql://user@host/db"``, opened with heartbeats so that the trials of a killed
        process are run again), the path of an Optuna journal file, or a storage object.
        Fitting again with the same ``study_name`` resumes the study (on the same data: a
        fingerprint is checked); processes fitting on one study share its trials. None keeps
        the study in memory.
    study_name : str, optional
        Name of the study inside ``storage``.
    n_jobs : int, optional
        Worker processes running trials of the study at once, torch's threads divided between
        them; -1 uses every core. Without ``storage`` they share a temporary journal file.
        None means 1.
    callbacks : list of skorch callbacks, optional
        Extra skorch callbacks, copied for every trial and for the final refit.
    max_model_size : int, optional
        Largest parameter count a trial may use; larger networks fail without training.
    refit : bool or "members", default=True ("members" for the text estimators)
        Retrain the best architecture on training plus validation rows for its best epoch
        count, its preprocessing fitted again on those rows (with ``validation_data``, on
        ``X`` only, unless ``fit(..., refit_on_validation_data=True)``). False keeps the best
        trial's own weights and the preprocessing fitted on its training rows. With True the
        members of an ensemble keep their trials' weights (they cost no time; refitting them
        won on some of the project's benchmark tables and lost on others). ``"members"``
        refits each of them too: under ``time_budget`` the search keeps the time that the
        members of the ensemble selected so far need, and they keep their trials' weights
        when the time left at the end does not cover all of them. The text estimators
        default to it: on the project's text benchmark it scored higher than the trials'
        weights (AG News and EmoBank; the SMS spam search ends on one network).
    ensemble_size : int, default=10
        Networks the final model may average. After the search, greedy ensemble selection
        with replacement (Caruana et al., 2004) starts from the best trial and, for
        ``ensemble_size`` rounds, adds the one of the ``ensemble_size`` best trials whose
        validation predictions improve the average's objective most; the best round gives the
        members and their weights (how often each was picked). Classifiers average
        probabilities, regressors values, per head. Members share the best trial's
        preprocessing (text trials with another representation are left out), and only
        trials run by this fit's processes count. 1 keeps the best network alone.
    cv : "auto", int, CV splitter, iterable or None, default=None ("auto" for NASTabular*)
        Score each trial by cross-validation instead of one validation split: ``k`` folds
        (shuffled, stratified for classifiers, seeded), or a scikit-learn splitter or list of
        (train, validation) index pairs. Each trial then trains one network per fold, reports
        each fold's score (``pruner="median"`` becomes Optuna's ``WilcoxonPruner`` across folds;
        no trial is pruned after its last fold) and scores their mean; the final model averages
        the best trial's fold models (a bag) instead of a refit, and ensembles select on
        out-of-fold predictions of every row. The folds must validate every row once; ``n_jobs``
        workers use the fitting process's folds, and a splitter that shuffles needs a
        ``random_state`` so that a resumed search makes the same ones (a study scored on other
        folds is refused). The input preprocessing and the regression targets' mean and scale
        are then fitted once on every row, so that the fold models share them;
        ``validation_split`` and ``refit`` are then not used. ``"auto"`` uses 5 folds from 5 to
        999 training rows and one split otherwise; ``NASTabularClassifier`` and
        ``NASTabularRegressor`` default to it (over 5 seeds of the project's benchmark its mean
        was higher than one split's on both small tables: ``bench/README.md``), the other
        estimators to None, which always uses one split. Not with ``validation_data``
        (``"auto"`` then keeps that set).
    device : {"auto", "cpu", "cuda"} or str, default="auto"
        Torch device; "auto" uses CUDA when it is available.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the sampler and each trial's weights and batches; an int
        gives the same trials and scores run to run on a CPU.
    verbose : int, default=0
        0 is silent, 1 shows a progress bar with a line per trial, 2 adds a line per epoch."""

ATTRIBUTES_DOC = """
    Attributes
    ----------
    study_ : optuna.Study
        The study, with every trial.
    best_trial_ : optuna.trial.FrozenTrial
        The best trial.
    best_params_ : dict
        Its sampled parameters.
    best_score_ : float
        Its objective value (the validation loss when ``objective=None``).
    best_architecture_ : ArchitectureSpec
        Its network and training settings.
    ensemble_ : sknas.search.Ensemble
        The trials the final model averages: ``members`` (trial numbers, the best first),
        ``weights``, ``score`` (the average's objective on the validation rows, out of fold
        with ``cv``), ``rounds`` and ``folds`` (fold models per member with ``cv``, else 1).
        One member with weight 1 when no average beat the best trial.
    leaderboard_ : pandas.DataFrame
        One row per trial, best first: number, state, score, ensemble_weight, epochs,
        best_epoch, n_params, seconds, epoch_seconds (mean seconds per epoch), fail_reason,
        worker (host:process) and the parameters.
    model_ : skorch.NeuralNet
        The final network, in eval mode (for an ensemble, its module is a
        :class:`~sknas.nn.EnsembleModule` of the members).
    search_interrupted_ : bool
        Whether the search was stopped with Ctrl-C.
    refit_status_ : str
        How the final model was made: ``"refit"`` (retrained on every row it may use),
        ``"trial_weights"`` (the trials' own weights: ``refit=False``, a search stopped
        with Ctrl-C, an ensemble, or ``refit="members"`` whose refit would not fit in
        ``time_budget``),
        ``"bagged"`` (cross-validation: the fold models of the best trial, or of each member,
        averaged), ``"retrained"`` (the best trial's network trained again on its training
        rows, where this process did not hold its weights: a trial of another machine or an
        earlier session), ``"out_of_time"``, ``"interrupted"`` or ``"diverged"`` (the refit
        hit the end of ``time_budget``, Ctrl-C or a non-finite loss, and the best trial's own
        weights are used instead, with a warning) or ``"partial"`` (the training could not
        finish and the best trial's weights were not held by this process: the network had
        fewer epochs; a warning says so).
    search_seconds_ : float
        Wall-clock seconds from the start of ``fit`` to the end of the search (preprocessing
        included).
    refit_seconds_ : float
        Wall-clock seconds of the final model.
    fit_seconds_ : float
        Wall-clock seconds of the whole fit."""
