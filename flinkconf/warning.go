package flinkconf

// Warning is a likely mistake in a Flink configuration that does not stop a client: the key it is
// about, what is wrong, and what to do.
type Warning struct {
	// Key is the configuration key concerned; empty for a line of the file that is not a key.
	Key string
	// Message says what is wrong (it names the key or the line).
	Message string
	// Fix is one sentence saying what to do.
	Fix string
}

// String is the warning as one line: the message, then the fix.
func (w Warning) String() string { return w.Message + "; " + w.Fix }

// warn records a warning about key.
func (r *Result) warn(key, msg, fix string) {
	r.Warnings = append(r.Warnings, Warning{Key: key, Message: msg, Fix: fix})
}
