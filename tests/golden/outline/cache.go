// Package cache keeps recently used values in memory.
package cache

import (
	"container/list"
	"errors"
	"sync"
	"time"
)

// ErrMiss is returned when a key is not cached.
var ErrMiss = errors.New("cache: miss")

const (
	DefaultSize = 128
	defaultTTL  = 5 * time.Minute
)

// Entry is one cached value.
type Entry[V any] struct {
	Key     string
	Value   V
	Expires time.Time
}

// Loader fetches a value on a miss.
type Loader[V any] interface {
	Load(key string) (V, error)
}

type Clock func() time.Time

// LRU is a size-bounded, thread-safe cache.
type LRU[V any] struct {
	mu    sync.Mutex
	size  int
	ttl   time.Duration
	order *list.List
	items map[string]*list.Element
	now   Clock
}

// New makes an LRU holding at most size entries.
func New[V any](size int, ttl time.Duration) *LRU[V] {
	if size <= 0 {
		size = DefaultSize
	}
	return &LRU[V]{size: size, ttl: ttl, order: list.New(), items: map[string]*list.Element{}, now: time.Now}
}

// Get returns the value for key, or ErrMiss.
func (c *LRU[V]) Get(key string) (V, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	el, ok := c.items[key]
	if !ok {
		return zero, ErrMiss
	}
	entry := el.Value.(*Entry[V])
	if c.now().After(entry.Expires) {
		c.order.Remove(el)
		delete(c.items, key)
		return zero, ErrMiss
	}
	c.order.MoveToFront(el)
	return entry.Value, nil
}

func (c *LRU[V]) Put(key string, value V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.Remove(el)
	}
	c.items[key] = c.order.PushFront(&Entry[V]{Key: key, Value: value, Expires: c.now().Add(c.ttl)})
	for c.order.Len() > c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*Entry[V]).Key)
	}
}

// GetOrLoad returns the cached value or loads, caches and returns it.
func (c *LRU[V]) GetOrLoad(key string, loader Loader[V]) (V, error) {
	if v, err := c.Get(key); err == nil {
		return v, nil
	}
	v, err := loader.Load(key)
	if err != nil {
		return v, err
	}
	c.Put(key, v)
	return v, nil
}
