def reindex():
    return "reindexed"


def report():
    return "report"
