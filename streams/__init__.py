"""Stream stage: Faust workers that validate, dedupe, number revisions and decide timeliness."""
