package testutil

import (
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// NATS runs a JetStream-enabled NATS server in the test process, storing
// in dir, on 127.0.0.1:port (0 picks one). It is shut down when the test
// ends; call Shutdown to stop it earlier and NATS again with the same dir
// and port to bring the same server back.
func NATS(t testing.TB, dir string, port int) *natsserver.Server {
	t.Helper()
	if port == 0 {
		port = -1 // random
	}
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir,
		MaxPayload: 4 << 20, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatalf("nats: %v", err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats: not ready")
	}
	t.Cleanup(s.Shutdown)
	return s
}
