// SecStore
