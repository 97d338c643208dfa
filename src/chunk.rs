//! A chunk of bytes handed to JS as a `Buffer` without a copy, and accounted to V8's GC.
//!
//! V8 lets garbage `ArrayBuffer` memory pile up to its external-memory allowance (about 64 MiB)
//! before it collects, so at several GiB/s a stream's already-consumed chunks, not its read-ahead,
//! decide the process's RSS. Reporting each chunk once more through `napi_adjust_external_memory`
//! (and taking it back when V8 frees the chunk) makes V8 collect them twice as early, which keeps
//! a stream of any size well inside the memory bound promised for it.

use std::ffi::c_void;
use std::ptr;

use napi::bindgen_prelude::{ToNapiValue, TypeName};
use napi::{sys, Status, ValueType};

pub struct Chunk(pub Vec<u8>);

unsafe extern "C" fn release(env: sys::napi_env, data: *mut c_void, hint: *mut c_void) {
    let capacity = hint as usize;
    // SAFETY: `data` and `capacity` come from the Vec leaked in `to_napi_value`; its length does not
    // matter for dropping bytes.
    drop(unsafe { Vec::from_raw_parts(data as *mut u8, 0, capacity) });
    let mut total = 0;
    unsafe { sys::napi_adjust_external_memory(env, -(capacity as i64), &mut total) };
}

impl TypeName for Chunk {
    fn type_name() -> &'static str {
        "Buffer"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for Chunk {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let mut bytes = std::mem::ManuallyDrop::new(val.0);
        let (data, len, capacity) = (bytes.as_mut_ptr(), bytes.len(), bytes.capacity());
        if capacity == 0 {
            // Nothing to share; an empty Buffer without a finalizer.
            return unsafe {
                ToNapiValue::to_napi_value(
                    env,
                    napi::bindgen_prelude::Buffer::from(Vec::<u8>::new()),
                )
            };
        }
        let mut result = ptr::null_mut();
        let status = unsafe {
            sys::napi_create_external_buffer(
                env,
                len,
                data as *mut c_void,
                Some(release),
                capacity as *mut c_void,
                &mut result,
            )
        };
        if status != sys::Status::napi_ok {
            drop(unsafe { Vec::from_raw_parts(data, len, capacity) });
            return Err(napi::Error::new(
                Status::from(status),
                "Failed to hand a chunk to JS",
            ));
        }
        let mut total = 0;
        unsafe { sys::napi_adjust_external_memory(env, capacity as i64, &mut total) };
        Ok(result)
    }
}
