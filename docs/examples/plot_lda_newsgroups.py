"""
LDA on 20 Newsgroups: the top words of each topic
=================================================

Fit a 10-topic model to the 2,000 bundled newsgroup posts (stop words removed, words in
fewer than 10 posts dropped) with variational Bayes, and show each topic's most probable
words. ``method="gibbs"`` (the default) reaches a lower held-out perplexity given more time.
"""

from latentmodels import LDA, TextCorpus
from latentmodels.datasets.texts import load_texts
from latentmodels.plots.lda import plot_top_words

posts = load_texts("newsgroups")
corpus = TextCorpus.from_texts(posts.texts, min_df=10, max_df=0.5)
lda = LDA(n_components=10, method="vb", max_iter=20, random_state=0).fit(corpus)
print(corpus.n_documents if hasattr(corpus, "n_documents") else len(posts.texts), "posts,",
      len(corpus.vocabulary), "words")

# %%
# Each topic's eight most probable words:
top_words = plot_top_words(lda, n_words=8, ncols=5)
