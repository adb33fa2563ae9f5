//! What the hand-built types (`fastcall`, `fastscope`) share: making the type, allocating and
//! freeing instances, traversing their references.

use std::ffi::c_void;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyType;

/// Makes a type from a spec whose every pointer is 'static, deriving from `base` if given.
pub(crate) fn make_type(
    py: Python<'_>,
    spec: &'static mut ffi::PyType_Spec,
    base: Option<&Bound<'_, PyType>>,
) -> PyResult<Py<PyType>> {
    let base = base.map_or(std::ptr::null_mut(), |b| b.as_ptr());
    // SAFETY: the spec and all it points to live for the rest of the process; `base` is null
    // or a live type.
    let ty =
        unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyType_FromSpecWithBases(spec, base))? };
    Ok(ty.cast_into::<PyType>()?.unbind())
}

/// A new, zeroed instance of `ty` (tracked by the GC if the type has it).
pub(crate) fn alloc_instance<'py>(ty: &Bound<'py, PyType>) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: every type has a tp_alloc slot with this signature; it returns a new
    // reference or null with an exception set.
    unsafe {
        let alloc: ffi::allocfunc =
            std::mem::transmute(ffi::PyType_GetSlot(ty.as_type_ptr(), ffi::Py_tp_alloc));
        Bound::from_owned_ptr_or_err(ty.py(), alloc(ty.as_type_ptr(), 0))
    }
}

/// Drops the boxed value `*field` points to (if any) and nulls the field.
///
/// # Safety
/// `*field` is null or came from `Box::into_raw` and is not used elsewhere.
pub(crate) unsafe fn drop_box<T>(field: *mut *mut T) {
    // SAFETY: the caller's contract.
    unsafe {
        let p = std::mem::replace(&mut *field, std::ptr::null_mut());
        if !p.is_null() {
            drop(Box::from_raw(p));
        }
    }
}

/// The end of a `tp_dealloc`: frees the memory with the type's `tp_free` and releases the
/// instance's reference to its (heap) type.
///
/// # Safety
/// `slf` is an instance whose fields were already released; it is not used afterwards.
pub(crate) unsafe fn free_instance(slf: *mut ffi::PyObject) {
    // SAFETY: the caller's contract; every type has a tp_free slot with this signature.
    unsafe {
        let ty = ffi::Py_TYPE(slf);
        let free: ffi::freefunc = std::mem::transmute(ffi::PyType_GetSlot(ty, ffi::Py_tp_free));
        free(slf.cast());
        ffi::Py_DECREF(ty.cast());
    }
}

/// `tp_traverse`'s loop: visits each non-null object; stops at the first non-zero result.
///
/// # Safety
/// Called from a `tp_traverse` with its `visit` and `arg`; each pointer is null or an object
/// the instance owns.
pub(crate) unsafe fn visit_each(
    objects: impl IntoIterator<Item = *mut ffi::PyObject>,
    visit: ffi::visitproc,
    arg: *mut c_void,
) -> std::ffi::c_int {
    for p in objects {
        if !p.is_null() {
            // SAFETY: the caller's contract.
            let r = unsafe { visit(p, arg) };
            if r != 0 {
                return r;
            }
        }
    }
    0
}

/// Method definitions CPython keeps pointers to (in every bound method and descriptor made
/// from them): built once, then only read, for the rest of the process.
pub(crate) struct MethodDefs<const N: usize>(pub(crate) [ffi::PyMethodDef; N]);
// SAFETY: written once, at initialisation, and only read afterwards (by CPython, under the GIL).
unsafe impl<const N: usize> Sync for MethodDefs<N> {}
// SAFETY: as above.
unsafe impl<const N: usize> Send for MethodDefs<N> {}

impl<const N: usize> MethodDefs<N> {
    /// The `i`-th definition, as the C API takes it (which never writes through it).
    pub(crate) fn get(&'static self, i: usize) -> *mut ffi::PyMethodDef {
        std::ptr::from_ref(&self.0[i]).cast_mut()
    }
}
