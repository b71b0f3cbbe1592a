// Atomic access to the plain integer fields of the C layouts (dita_zinc.h), plus byte copies
// into and out of shared buffers that never formally race (relaxed word-wise atomics).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace dita::zinc {

template <class T>
using atomic_ref = std::atomic_ref<T>;

template <class T>
[[nodiscard]] inline T atomic_load(const T& field, std::memory_order order) noexcept {
  return std::atomic_ref<T>(const_cast<T&>(field)).load(order);
}

template <class T, class U>
inline void atomic_store(T& field, U value, std::memory_order order) noexcept {
  std::atomic_ref<T>(field).store(static_cast<T>(value), order);
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Copies n bytes out of a 8-byte-aligned shared buffer with relaxed atomic loads.
inline void copy_from_shared(void* dst, const std::byte* src, std::size_t n) noexcept {
  auto* out = static_cast<unsigned char*>(dst);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const auto word = std::atomic_ref<std::uint64_t>(
                          *reinterpret_cast<std::uint64_t*>(const_cast<std::byte*>(src + i)))
                          .load(std::memory_order_relaxed);
    std::memcpy(out + i, &word, 8);
  }
  for (; i < n; ++i) {
    out[i] = std::atomic_ref<unsigned char>(
                 *reinterpret_cast<unsigned char*>(const_cast<std::byte*>(src + i)))
                 .load(std::memory_order_relaxed);
  }
}

// Copies n bytes into a 8-byte-aligned shared buffer with relaxed atomic stores.
inline void copy_to_shared(std::byte* dst, const void* src, std::size_t n) noexcept {
  const auto* in = static_cast<const unsigned char*>(src);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, in + i, 8);
    std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(dst + i))
        .store(word, std::memory_order_relaxed);
  }
  for (; i < n; ++i) {
    std::atomic_ref<unsigned char>(*reinterpret_cast<unsigned char*>(dst + i))
        .store(in[i], std::memory_order_relaxed);
  }
}

}  // namespace dita::zinc
