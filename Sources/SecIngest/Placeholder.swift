// SecIngest
