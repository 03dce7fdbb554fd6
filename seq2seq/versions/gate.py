"""The promotion gate (`s2s models promote`): a version replaces its pair's default only if it was
scored on the same test set and its BLEU there is not more than the tolerance lower, and its term use
rate on the same terms test not more than the term tolerance lower. A fine-tuned version is held to
its original test set even when the review set improved: gains on corrected sentences must not cost
what the model knew."""


def _test_set(version) -> tuple:
    """What identifies a version's test set: its files' sha256 (only its name in a record without them)."""
    test = version.info["test"]
    return (test["source_sha256"], test["reference_sha256"]) if "source_sha256" in test else (test["name"],)


def _describe(version) -> str:
    test = version.info["test"]
    files = (f" (source sha256 {test['source_sha256'][:12]}..., reference {test['reference_sha256'][:12]}...)"
             if "source_sha256" in test else "")
    return f"{test['name']!r}{files}"


def review_change(version, current) -> tuple[float, float] | None:
    """The review-set BLEU of `current` and of `version` on the same review set: `current`'s own
    record of it, or the baseline recorded when `version` (fine-tuned from `current`) was published."""
    review = version.info.get("review_test")
    if not review:
        return None
    theirs = current.info.get("review_test")
    if theirs and theirs.get("sha256") == review.get("sha256"):
        return theirs["bleu"], review["bleu"]
    baseline = review.get("baseline")
    if baseline and baseline["version"] == current.id:
        return baseline["bleu"], review["bleu"]
    return None


def term_use_change(version, current) -> tuple[float, float] | None:
    """The term use rates of `current` and of `version`, when both were scored on the same terms test
    (`s2s publish --terms-test`: the same term file and test source, by sha256); else None, and the
    gate does not compare them: a version without a record, or scored on other terms, passes on BLEU."""
    theirs, mine = current.terms.get("term_use"), version.terms.get("term_use")
    same = theirs and mine and all(theirs[key] == mine[key] for key in ("sha256", "source_sha256"))
    if not same:
        return None
    return theirs["percent"], mine["percent"]


def _bleu_drop(version, current, tolerance: float) -> str | None:
    if version.bleu >= current.bleu - tolerance:
        return None
    message = (f"test BLEU {version.bleu:.2f} on {version.info['test']['name']} is {current.bleu - version.bleu:.2f} "
               f"lower, more than {tolerance} below the current default {current.id} ({current.bleu:.2f} on "
               f"{current.info['test']['name']})")
    change = review_change(version, current)
    if change and change[1] > change[0]:
        message += (f", although its BLEU on the review set {version.info['review_test']['name']!r} rose by "
                    f"{change[1] - change[0]:.2f} ({change[0]:.2f} -> {change[1]:.2f}): the original test set "
                    "decides, so that fixing the reviewed sentences does not cost the rest")
    return message


def _term_use_drop(version, current, term_tolerance: float) -> str | None:
    change = term_use_change(version, current)
    # Rates have two decimals: rounded, a drop of exactly the tolerance is not refused for float noise.
    if change is None or round(change[0] - change[1], 2) <= term_tolerance:
        return None
    record = version.terms["term_use"]
    return (f"its term use rate with {record['file']!r} (sha256 {record['sha256'][:12]}...) on "
            f"{record['test']} is {change[1]:.2f}%, {change[0] - change[1]:.2f} points lower, more than "
            f"{term_tolerance} below the current default {current.id} ({change[0]:.2f}% on the same terms test)")


def promotion_refusal(version, current, tolerance: float, term_tolerance: float) -> str | None:
    """Why `version` may not replace `current` as the default, or None: every reason, BLEU's first."""
    if _test_set(version) != _test_set(current):
        return (f"refusing to promote {version.id}: it was scored on the test set {_describe(version)}, and the "
                f"current default {current.id} on {_describe(current)}; BLEU on different sentences does not "
                "compare: publish it scored on the default's test set (s2s publish --test-source/--test-target), "
                "or --force promotes it anyway")
    reasons = [r for r in (_bleu_drop(version, current, tolerance), _term_use_drop(version, current, term_tolerance))
               if r]
    if not reasons:
        return None
    return f"refusing to promote {version.id}: {'; and '.join(reasons)}; --force promotes it anyway"
