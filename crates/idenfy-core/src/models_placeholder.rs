//! Stand-in for `idenfy_models` until the generated models exist.
#![allow(missing_docs)]

use serde::{Deserialize, Serialize};

macro_rules! open_struct {
    ($name:ident) => {
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            #[serde(flatten)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }
    };
}
open_struct!(IdentificationStatus);
open_struct!(IdentificationData);
open_struct!(FileUrls);
open_struct!(FullStatus);

pub type ErrorIdentifier = String;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub identifier: Option<ErrorIdentifier>,
    pub message: Option<String>,
    pub documentation: Option<String>,
    pub severity: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanRefRequest {
    #[serde(rename = "scanRef")]
    pub scan_ref: String,
}
