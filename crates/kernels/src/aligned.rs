//! Owned arrays with aligned, padded rows: what native code hands to numpy without a copy.
//!
//! Storage is an `aligned-vec` buffer whose base is aligned to `align` bytes (64 by default);
//! every row (the last axis) starts on an `align`-byte boundary, so rows are padded to a
//! multiple of `align` bytes. The strides skip the padding, which is never read as data.

use crate::element::Element;
use crate::layout::{LayoutError, StridedView};
use aligned_vec::{AVec, RuntimeAlign};
use std::alloc::Layout as AllocLayout;

/// Default alignment of rows, in bytes: one cache line and one AVX-512 register.
pub const DEFAULT_ALIGN: usize = 64;

/// An owned N-d array of `T` with aligned, padded rows in C order.
pub struct AlignedArray<T> {
    buf: AVec<T, RuntimeAlign>,
    shape: Vec<usize>,
    strides: Vec<isize>,
}

impl<T: std::fmt::Debug> std::fmt::Debug for AlignedArray<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlignedArray")
            .field("shape", &self.shape)
            .field("strides", &self.strides)
            .field("align", &self.buf.alignment())
            .finish()
    }
}

/// Element strides and storage length (elements, padding included) of a padded C layout.
fn padded_layout<T>(shape: &[usize], align: usize) -> Result<(Vec<isize>, usize), LayoutError> {
    let size = std::mem::size_of::<T>();
    let Some(&row) = shape.last() else {
        return Ok((Vec::new(), 1));
    };
    let pitch_bytes = row
        .checked_mul(size)
        .and_then(|b| b.checked_next_multiple_of(align))
        .ok_or(LayoutError::Overflow)?;
    let pitch = pitch_bytes / size;
    let mut strides = vec![0isize; shape.len()];
    let mut acc = pitch;
    strides[shape.len() - 1] = 1;
    for k in (0..shape.len() - 1).rev() {
        strides[k] = isize::try_from(acc).map_err(|_| LayoutError::Overflow)?;
        acc = acc.checked_mul(shape[k]).ok_or(LayoutError::Overflow)?;
    }
    if shape.contains(&0) {
        acc = 0;
    }
    if acc
        .checked_mul(size)
        .is_none_or(|b| b > isize::MAX as usize)
    {
        return Err(LayoutError::Overflow);
    }
    Ok((strides, acc))
}

fn check_align<T>(align: usize) -> usize {
    assert!(
        align.is_power_of_two(),
        "alignment {align} is not a power of two"
    );
    align
        .max(std::mem::align_of::<T>())
        .max(std::mem::size_of::<T>())
}

impl<T: Element> AlignedArray<T> {
    /// A zero-filled array. The memory comes zeroed from the allocator (`calloc`-style, so
    /// large arrays are zeroed lazily by the OS), not by writing every element.
    ///
    /// # Panics
    /// If `align` is not a power of two.
    pub fn zeros(shape: &[usize], align: usize) -> Result<Self, LayoutError> {
        let align = check_align::<T>(align);
        let (strides, cap) = padded_layout::<T>(shape, align)?;
        let buf = if cap == 0 {
            AVec::new(align)
        } else {
            let layout = AllocLayout::from_size_align(cap * std::mem::size_of::<T>(), align)
                .map_err(|_| LayoutError::Overflow)?;
            // SAFETY: `layout` has non-zero size (cap > 0 and T is not zero-sized).
            let ptr = unsafe { std::alloc::alloc_zeroed(layout) } as *mut T;
            if ptr.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            // aligned-vec 0.6 (pinned in Cargo.toml) frees its buffer with the global allocator
            // and `Layout(capacity * size_of::<T>(), align)`, exactly the layout allocated
            // above; `align` is a power of two >= align_of::<T>(); and all `cap` elements are
            // initialised, as every `Element` type is valid as all-zero bytes (0, 0.0, false).
            // SAFETY: by these facts the block is a valid AVec buffer of `cap` elements.
            unsafe { AVec::from_raw_parts(ptr, align, cap, cap) }
        };
        Ok(Self {
            buf,
            shape: shape.to_vec(),
            strides,
        })
    }

    /// An array filled with `value` (padding is zero).
    pub fn full(shape: &[usize], value: T, align: usize) -> Result<Self, LayoutError> {
        let mut a = Self::zeros(shape, align)?;
        a.fill(value);
        Ok(a)
    }

    /// An aligned, padded copy of any view.
    pub fn from_view(view: &StridedView<'_, T>, align: usize) -> Result<Self, LayoutError> {
        let mut a = Self::zeros(view.shape(), align)?;
        let (shape, strides) = (view.shape().to_vec(), view.strides().to_vec());
        let dst_strides = a.strides.clone();
        if view.is_empty() {
            return Ok(a);
        }
        let mut idx = vec![0usize; shape.len()];
        let src = view.as_ptr();
        let dst = a.buf.as_mut_ptr();
        loop {
            let s: isize = idx
                .iter()
                .zip(&strides)
                .map(|(&i, &s)| i as isize * s)
                .sum();
            let d: isize = idx
                .iter()
                .zip(&dst_strides)
                .map(|(&i, &s)| i as isize * s)
                .sum();
            // SAFETY: idx is in range for both: `s` is an element of the view (its contract),
            // `d` is inside our buffer (strides and capacity from `padded_layout`).
            unsafe { *dst.offset(d) = *src.offset(s) };
            let mut k = shape.len();
            loop {
                if k == 0 {
                    return Ok(a);
                }
                k -= 1;
                idx[k] += 1;
                if idx[k] < shape[k] {
                    break;
                }
                idx[k] = 0;
            }
        }
    }

    /// Set every element (not the padding) to `value`.
    pub fn fill(&mut self, value: T) {
        let row = self.shape.last().copied().unwrap_or(1);
        let pitch = if self.shape.len() > 1 {
            self.strides[self.shape.len() - 2] as usize
        } else {
            // One row (or a 0-d array): the whole buffer, whose tail is padding.
            self.buf.len()
        };
        for chunk in self.buf.as_mut_slice().chunks_mut(pitch.max(1)) {
            let n = row.min(chunk.len());
            chunk[..n].fill(value);
        }
    }

    /// A strided view of the data (padding excluded).
    pub fn view(&self) -> StridedView<'_, T> {
        StridedView::from_slice(self.buf.as_slice(), 0, &self.shape, &self.strides)
            .expect("the padded layout fits its own buffer")
    }
}

impl<T> AlignedArray<T> {
    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Strides in elements (the row stride includes the padding).
    pub fn strides(&self) -> &[isize] {
        &self.strides
    }

    /// Strides in bytes, as numpy and the buffer protocol want them.
    pub fn byte_strides(&self) -> Vec<isize> {
        let size = std::mem::size_of::<T>() as isize;
        self.strides.iter().map(|&s| s * size).collect()
    }

    /// Alignment of the base and of every row, in bytes.
    pub fn align(&self) -> usize {
        self.buf.alignment()
    }

    /// Number of logical elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True if the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements of storage, padding included.
    pub fn storage_len(&self) -> usize {
        self.buf.len()
    }

    /// Base pointer.
    pub fn as_ptr(&self) -> *const T {
        self.buf.as_ptr()
    }

    /// Mutable base pointer (for bindings that expose the memory as writable).
    pub fn as_mut_ptr(&mut self) -> *mut T {
        self.buf.as_mut_ptr()
    }

    fn offset_of(&self, index: &[usize]) -> Option<usize> {
        if index.len() != self.shape.len() || index.iter().zip(&self.shape).any(|(&i, &n)| i >= n) {
            return None;
        }
        Some(
            index
                .iter()
                .zip(&self.strides)
                .map(|(&i, &s)| i * s as usize)
                .sum(),
        )
    }

    /// The element at `index`.
    pub fn get(&self, index: &[usize]) -> Option<&T> {
        let off = self.offset_of(index)?;
        self.buf.as_slice().get(off)
    }

    /// The element at `index`, mutably.
    pub fn get_mut(&mut self, index: &[usize]) -> Option<&mut T> {
        let off = self.offset_of(index)?;
        self.buf.as_mut_slice().get_mut(off)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sum of a view's elements, read one by one through `get` (the unit tests do not
    /// call the kernels: a test binary that did would compile all of them a second time).
    fn sum_by_index(v: &StridedView<'_, f64>) -> f64 {
        let n = v.len();
        let mut idx = vec![0usize; v.ndim()];
        let mut total = 0.0;
        for _ in 0..n {
            total += *v.get(&idx).unwrap();
            for k in (0..idx.len()).rev() {
                idx[k] += 1;
                if idx[k] < v.shape()[k] {
                    break;
                }
                idx[k] = 0;
            }
        }
        total
    }

    #[test]
    fn rows_start_aligned_and_padding_is_skipped() {
        let a = AlignedArray::<f64>::zeros(&[5, 3], 64).unwrap();
        assert_eq!(a.strides(), &[8, 1]);
        assert_eq!(a.storage_len(), 40);
        assert_eq!(a.as_ptr() as usize % 64, 0);
        for r in 0..5 {
            let p = a.get(&[r, 0]).unwrap() as *const f64 as usize;
            assert_eq!(p % 64, 0, "row {r}");
        }
        let b = AlignedArray::<u8>::zeros(&[2, 3, 65], 64).unwrap();
        assert_eq!(b.strides(), &[384, 128, 1]);
        let c = AlignedArray::<f32>::zeros(&[7], 128).unwrap();
        assert_eq!((c.strides(), c.align()), (&[1isize][..], 128));
    }

    #[test]
    fn zero_dim_empty_and_full() {
        let z = AlignedArray::<i32>::full(&[], 7, 64).unwrap();
        assert_eq!((z.len(), z.get(&[]).copied()), (1, Some(7)));
        let e = AlignedArray::<f64>::zeros(&[0, 4], 64).unwrap();
        assert!(e.is_empty());
        assert_eq!(e.view().len(), 0);
        let f = AlignedArray::<f64>::full(&[3, 5], 2.5, 64).unwrap();
        assert_eq!(sum_by_index(&f.view()), 37.5);
        // Padding stays zero: only 15 of the 24 stored elements are data.
        assert_eq!(f.buf.as_slice().iter().filter(|&&x| x == 2.5).count(), 15);
        let g = AlignedArray::<f64>::full(&[3], 2.5, 64).unwrap();
        assert_eq!(g.storage_len(), 8);
        assert_eq!(g.buf.as_slice().iter().filter(|&&x| x == 2.5).count(), 3);
    }

    #[test]
    fn from_view_copies_any_layout() {
        let data: Vec<i64> = (0..12).collect();
        let t = StridedView::from_slice(&data, 11, &[4, 3], &[-1, -4]).unwrap();
        let a = AlignedArray::from_view(&t, 64).unwrap();
        for i in 0..4 {
            for j in 0..3 {
                assert_eq!(a.get(&[i, j]), t.get(&[i, j]));
            }
        }
    }

    #[test]
    fn writes_are_seen_through_the_view() {
        let mut a = AlignedArray::<f32>::zeros(&[2, 2], 64).unwrap();
        *a.get_mut(&[1, 1]).unwrap() = 4.0;
        assert_eq!(a.view().get(&[1, 1]), Some(&4.0));
        assert!(a.get_mut(&[2, 0]).is_none());
    }

    #[test]
    fn large_zeros_are_zero() {
        let a = AlignedArray::<f64>::zeros(&[1000, 999], 64).unwrap();
        assert_eq!(sum_by_index(&a.view()), 0.0);
        assert!(AlignedArray::<f64>::zeros(&[usize::MAX / 2, 4], 64).is_err());
    }
}
