package election

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestRecordEncodeDecode(t *testing.T) {
	for _, addr := range []string{"", "http://jm1.example.com:8081", "pekko.tcp://flink@10.0.0.1:6123/user/rpc/dispatcher_1",
		"naïve ünïcode", "null\x00byte", "emoji 😀 outside the BMP", strings.Repeat("x", 300), strings.Repeat("y", 3000)} {
		in := LeaderInfo{Address: addr, SessionID: uuid.New()}
		b, err := EncodeLeaderRecord(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := DecodeLeaderRecord(b)
		if err != nil || out != in {
			t.Errorf("%q: round trip %+v, %v", addr, out, err)
		}
	}
	if _, err := DecodeLeaderRecord(nil); !errors.Is(err, ErrNoLeader) {
		t.Errorf("empty record: %v", err)
	}
	good, _ := EncodeLeaderRecord(LeaderInfo{Address: "a", SessionID: uuid.New()})
	for i := 0; i < len(good); i++ {
		if _, err := DecodeLeaderRecord(good[:i]); err == nil && i > 0 {
			t.Errorf("truncated to %d bytes: decoded", i)
		}
	}
	bad := bytes.Replace(good, []byte("java.util.UUID"), []byte("java.util.UUIX"), 1)
	if _, err := DecodeLeaderRecord(bad); !errors.Is(err, ErrRecord) {
		t.Errorf("wrong class: %v", err)
	}
}

func FuzzDecodeLeaderRecord(f *testing.F) {
	good, _ := EncodeLeaderRecord(LeaderInfo{Address: "http://jm:8081", SessionID: uuid.New()})
	f.Add(good)
	f.Add([]byte{0xac, 0xed, 0x00, 0x05, 0x77, 0x02, 0x00, 0x00, 0x70})
	f.Add([]byte{0xac, 0xed, 0x00, 0x05, 0x7a, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := DecodeLeaderRecord(b)
		if err != nil {
			return
		}
		again, err := EncodeLeaderRecord(info)
		if err != nil {
			return
		}
		if back, err := DecodeLeaderRecord(again); err != nil || back != info {
			t.Fatalf("decoded %+v does not survive re-encoding: %+v %v", info, back, err)
		}
	})
}

func TestSortKeyMatchesCurator(t *testing.T) {
	nodes := []string{"_c_b-latch-0000000010", "_c_a-latch-0000000002", "latch-0000000005", "_c_c-latch-0000000001"}
	sortNodes(nodes)
	want := []string{"_c_c-latch-0000000001", "_c_a-latch-0000000002", "latch-0000000005", "_c_b-latch-0000000010"}
	for i := range want {
		if nodes[i] != want[i] {
			t.Fatalf("sorted %v, want %v", nodes, want)
		}
	}
}

// An invalid component is reported the same way by ReadLeader, ObserveLeader and Publish: an error
// wrapping ErrInvalidComponent, at once, before the client is used (so a nil client suffices).
func TestInvalidComponentIsAnError(t *testing.T) {
	ctx := context.Background()
	for _, comp := range []string{"", "a/b", ".", "..", "latch", "x\x00y"} {
		if _, err := ReadLeader(ctx, nil, comp); !errors.Is(err, ErrInvalidComponent) {
			t.Errorf("ReadLeader(%q): %v, want ErrInvalidComponent", comp, err)
		}
		ch, err := ObserveLeader(ctx, nil, comp)
		if !errors.Is(err, ErrInvalidComponent) || ch != nil {
			t.Errorf("ObserveLeader(%q): %v, %v; want ErrInvalidComponent and no channel", comp, ch, err)
		}
		l := &Leadership{}
		if err := l.Publish(ctx, comp, "http://x:8081"); !errors.Is(err, ErrInvalidComponent) {
			t.Errorf("Publish(%q): %v, want ErrInvalidComponent", comp, err)
		}
	}
}
