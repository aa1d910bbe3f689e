package testenv

// TB is the part of testing.TB that testenv uses; *testing.T, *testing.B and *testing.F satisfy it.
type TB interface {
	Helper()
	Cleanup(func())
	Failed() bool
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	TempDir() string
}
