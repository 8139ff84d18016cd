"""scikit-learn's own estimator checks on the tabular estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sknas import NASTabularClassifier, NASTabularRegressor

# A tiny budget: the checks fit dozens of times on toy data.
ESTIMATORS = [
    NASTabularClassifier(cv=None, max_trials=2, epochs=15, random_state=0),
    NASTabularRegressor(cv=None, max_trials=2, epochs=15, random_state=0),
]

FLOAT32_SUBSET = (
    "the network computes in float32, and matrix products over a batch of 20 rows and over "
    "its subsets take different BLAS code paths: predictions agree to about 1e-7 relative, "
    "not to the 1e-7 absolute-and-relative tolerance this check applies to float64 output"
)


def expected_failures(estimator):
    if isinstance(estimator, NASTabularRegressor):
        return {"check_methods_subset_invariance": FLOAT32_SUBSET}
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
