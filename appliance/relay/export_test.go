package relay

// SetMaxSize lowers the size limit of f's documents.
func SetMaxSize(f *Feed, n int64) { f.maxSize = n }
