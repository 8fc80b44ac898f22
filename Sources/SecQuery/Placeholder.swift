// SecQuery
