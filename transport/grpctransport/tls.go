package grpctransport

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"

	"google.golang.org/grpc/credentials"
)

// TLSFromFiles builds a mutual-TLS config, for WithTLS, from PEM files:
// certFile and keyFile hold this process's certificate chain and private
// key, presented to peers on both sides of a connection; caFile holds the
// certificate authorities trusted to sign peers' certificates, used to
// verify servers and to require and verify client certificates. The
// config requires TLS 1.3.
func TLSFromFiles(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("grpctransport: load key pair: %w", err)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("grpctransport: read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("grpctransport: no PEM certificate in CA file %s", caFile)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS13,
	}, nil
}

// loggedCreds logs the handshakes the accepting side refuses (a peer
// without a valid client certificate, a plain-TCP peer), which gRPC would
// otherwise only close.
type loggedCreds struct {
	credentials.TransportCredentials
	log *slog.Logger
}

func (c loggedCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := c.TransportCredentials.ServerHandshake(raw)
	if err != nil {
		c.log.Warn("grpctransport: TLS handshake refused",
			slog.String("remote", raw.RemoteAddr().String()), slog.Any("err", err))
	}
	return conn, info, err
}

func (c loggedCreds) Clone() credentials.TransportCredentials {
	return loggedCreds{c.TransportCredentials.Clone(), c.log}
}
