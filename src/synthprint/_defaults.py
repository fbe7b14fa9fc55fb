"""The default method names, apart from the methods themselves, so that the command line
can show them without importing the methods (and scikit-learn) first."""

#: ``synthprint membership --method`` default (:mod:`synthprint.membership.methods`).
MEMBERSHIP_METHOD = "auto"
#: ``synthprint attribute --method`` default (:mod:`synthprint.attribution.methods`).
ATTRIBUTION_METHOD = "ensemble"
