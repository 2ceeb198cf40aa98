package grpctransport

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/quarkgo/quark/transport"
)

// testCA is a self-signed certificate authority made for a test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	der  []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert, key, der}
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// issue returns a certificate for 127.0.0.1, usable by a server and a
// client, with its key, and their PEM encodings.
func (ca *testCA) issue(t *testing.T, name string) (tls.Certificate, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert, certPEM, keyPEM
}

func serverTLS(ca *testCA, cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    ca.pool(),
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS13,
	}
}

// exchange checks one frame each way over a pair.
func exchange(t *testing.T, p *pair) {
	t.Helper()
	if err := p.client.Send([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if err := p.server.Send([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	<-p.serverH.all
	<-p.clientH.all
	if got := p.serverH.got(); string(got[0]) != "ping" {
		t.Fatalf("server got %q", got)
	}
	if got := p.clientH.got(); string(got[0]) != "pong" {
		t.Fatalf("client got %q", got)
	}
}

func newTLSPair(t *testing.T, server, client *Transport) *pair {
	t.Helper()
	clientH, serverH := newRecorder(), newRecorder()
	clientH.want, serverH.want = 1, 1
	accepted := make(chan transport.Conn, 1)
	ln, err := server.Listen("127.0.0.1:0", func(c transport.Conn) transport.Handler {
		accepted <- c
		return serverH
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(context.Background(), ln.Addr(), clientH)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	return &pair{ln: ln, client: c, server: <-accepted, clientH: clientH, serverH: serverH}
}

func TestMutualTLS(t *testing.T) {
	ca := newCA(t, "test CA")
	serverCert, _, _ := ca.issue(t, "server")
	clientCert, _, _ := ca.issue(t, "client")
	server := New(quiet(), WithTLS(serverTLS(ca, serverCert)))
	client := New(quiet(), WithTLS(&tls.Config{
		Certificates: []tls.Certificate{clientCert},
		RootCAs:      ca.pool(),
		MinVersion:   tls.VersionTLS13,
	}))
	p := newTLSPair(t, server, client)
	defer p.ln.Close()
	exchange(t, p)
	p.client.Close()
}

func TestTLSFromFiles(t *testing.T) {
	ca := newCA(t, "test CA")
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	caFile := write("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.der}))
	configFor := func(name string) *tls.Config {
		_, certPEM, keyPEM := ca.issue(t, name)
		cfg, err := TLSFromFiles(write(name+".pem", certPEM), write(name+"-key.pem", keyPEM), caFile)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	p := newTLSPair(t, New(quiet(), WithTLS(configFor("server"))), New(quiet(), WithTLS(configFor("client"))))
	defer p.ln.Close()
	exchange(t, p)
	p.client.Close()

	if _, err := TLSFromFiles(filepath.Join(dir, "none.pem"), filepath.Join(dir, "none-key.pem"), caFile); err == nil {
		t.Error("TLSFromFiles with missing files succeeded")
	}
	if _, err := TLSFromFiles(filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem"), write("empty.pem", nil)); err == nil {
		t.Error("TLSFromFiles with no CA certificate succeeded")
	}
}

// TestTLSRefusesClient dials a mutual-TLS server with clients it must
// refuse: Dial returns an error (not at its context's end) and the server
// logs the refusal.
func TestTLSRefusesClient(t *testing.T) {
	ca := newCA(t, "test CA")
	other := newCA(t, "other CA")
	serverCert, _, _ := ca.issue(t, "server")
	strangerCert, _, _ := other.issue(t, "stranger")
	for _, tc := range []struct {
		name string
		cfg  *tls.Config
	}{
		{"no certificate", &tls.Config{RootCAs: ca.pool(), MinVersion: tls.VersionTLS13}},
		{"certificate from another CA", &tls.Config{Certificates: []tls.Certificate{strangerCert}, RootCAs: ca.pool(), MinVersion: tls.VersionTLS13}},
		{"certificate from another CA, sent anyway", &tls.Config{
			// A client sends by default only a certificate the server's
			// CA list accepts: force the stranger's.
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &strangerCert, nil },
			RootCAs:              ca.pool(), MinVersion: tls.VersionTLS13,
		}},
		{"TLS 1.2, no certificate", &tls.Config{RootCAs: ca.pool(), MaxVersion: tls.VersionTLS12}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := newLogRecorder()
			cfg := serverTLS(ca, serverCert)
			cfg.MinVersion = tls.VersionTLS12
			ln, err := New(WithLogger(slogNew(logs)), WithTLS(cfg)).Listen("127.0.0.1:0", func(transport.Conn) transport.Handler {
				t.Error("refused client accepted")
				return newRecorder()
			})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			ctx, cancel := context.WithTimeout(context.Background(), promptly)
			defer cancel()
			c, err := New(quiet(), WithTLS(tc.cfg)).Dial(ctx, ln.Addr(), newRecorder())
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Dial waited for its context: %v", err)
			}
			t.Logf("Dial: %v", err)
			r := logs.waitLog(t, "grpctransport: TLS handshake refused")
			t.Logf("server log: %s %v", r.Message, attrs(r))
		})
	}
}

// TestPlainClientToTLSServer dials a TLS server without TLS.
func TestPlainClientToTLSServer(t *testing.T) {
	ca := newCA(t, "test CA")
	serverCert, _, _ := ca.issue(t, "server")
	ln, err := New(quiet(), WithTLS(serverTLS(ca, serverCert))).Listen("127.0.0.1:0", func(transport.Conn) transport.Handler {
		t.Error("plain client accepted")
		return newRecorder()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), promptly)
	defer cancel()
	if _, err := New(quiet()).Dial(ctx, ln.Addr(), newRecorder()); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial = %v, want a prompt error", err)
	}
}

func attrs(r slog.Record) []slog.Attr {
	var as []slog.Attr
	r.Attrs(func(a slog.Attr) bool { as = append(as, a); return true })
	return as
}
