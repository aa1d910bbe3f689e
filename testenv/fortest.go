package testenv

import "context"

// forTest is the body of every New… constructor: it starts a server with a background context,
// fails the test if that fails, and closes the server by t.Cleanup — after writing failedLog's text
// (the server's log tail) to the test log when the test has failed.
func forTest[S interface{ Close() error }](t TB, start func(context.Context) (S, error), failedLog func(S) string) S {
	t.Helper()
	s, err := start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s", failedLog(s))
		}
		s.Close()
	})
	return s
}
