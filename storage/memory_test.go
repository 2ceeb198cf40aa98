package storage_test

import (
	"testing"

	"github.com/quarkgo/quark/storage"
	"github.com/quarkgo/quark/storage/storagetest"
)

func TestMemoryConformance(t *testing.T) {
	storagetest.Run(t, storagetest.Harness{
		New: func(*testing.T) storage.Store { return storage.NewMemory() },
	})
}

func TestMemoryReminders(t *testing.T) {
	storagetest.RunReminders(t, func(*testing.T) storage.ReminderStore { return storage.NewMemory() })
}
