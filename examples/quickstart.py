"""RRAETransformer as a drop-in for PCA on the 8x8 digits (about 12 s on 2 CPU cores)."""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from sklearn_rrae import RRAETransformer

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)

for model in (PCA(n_components=5), RRAETransformer(n_components=5, random_state=0)):
    codes = model.fit(X_train).transform(X_test)
    error = np.mean((X_test - model.inverse_transform(codes)) ** 2)
    print(f"{type(model).__name__:>16}: codes {codes.shape}, held-out reconstruction MSE {error:.3f}")
