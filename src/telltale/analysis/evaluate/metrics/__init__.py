"""Text metrics computed from per-example sufficient statistics.

Each module turns one example (a sentence's spans, a question's answers, a segment's n-grams)
into a row of counts, and the metric into a function of column sums, so that corpus metrics and
their bootstrap intervals come from the same rows: span F1 (:mod:`.span_f1`), SQuAD v1.1 exact
match and F1 (:mod:`.squad`), corpus BLEU (:mod:`.bleu`), chrF (:mod:`.chrf`) and ROUGE-1/2/L
(:mod:`.rouge`).
"""
