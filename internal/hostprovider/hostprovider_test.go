package hostprovider

import "testing"

func TestStaticKeepsNamesAndSignalsRetryStart(t *testing.T) {
	var s Static
	if err := s.Init([]string{"zk1.example.com:2181", "zk2:2182", "10.0.0.3:2181"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	var retries []bool
	for i := 0; i < 4; i++ {
		srv, retry := s.Next()
		got = append(got, srv)
		retries = append(retries, retry)
	}
	want := []string{"zk1.example.com:2181", "zk2:2182", "10.0.0.3:2181", "zk1.example.com:2181"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Next sequence %v, want %v", got, want)
		}
	}
	if retries[0] || retries[1] || retries[2] || !retries[3] {
		t.Fatalf("retryStart %v, want true only after a full round", retries)
	}
	s.Connected() // connected to zk1
	for i := 0; i < 2; i++ {
		if _, retry := s.Next(); retry {
			t.Fatal("retryStart before a full round after Connected")
		}
	}
	if srv, retry := s.Next(); srv != "zk1.example.com:2181" || !retry {
		t.Fatalf("after a full round: %s %v", srv, retry)
	}
	if err := new(Static).Init(nil); err == nil {
		t.Fatal("Init(nil) succeeded")
	}
}
