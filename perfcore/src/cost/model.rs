//! What costs money: resources, their types and providers, and their utilisation.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{CostError, Currency, Money};

/// The kind of a resource.
///
/// FOCUS `ServiceCategory` (and `ServiceSubcategory`, FOCUS 1.1) maps onto it: `Compute`,
/// `Storage`, `Networking`, `Databases`; the subcategories `Containers` and `Serverless Compute`
/// (or `Functions`). Every other category is kept by name as `Other`.
///
/// # Examples
/// ```
/// use perfcore::cost::ResourceType;
/// assert_eq!(ResourceType::from_service_category("Networking", None), ResourceType::Network);
/// assert_eq!(ResourceType::from_service_category("Compute", Some("Containers")), ResourceType::Container);
/// assert_eq!(ResourceType::from_service_category("Identity", None).to_string(), "Identity");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceType {
    /// Virtual machines, instances.
    Compute,
    /// Object, block and file storage.
    Storage,
    /// Load balancers, data transfer, DNS, CDNs.
    Network,
    /// Managed databases.
    Database,
    /// Container platforms.
    Container,
    /// Functions.
    Serverless,
    /// Anything else, by the name it was given.
    Other(String),
}

impl ResourceType {
    /// The type a FOCUS service category (and subcategory) describes.
    #[must_use]
    pub fn from_service_category(category: &str, subcategory: Option<&str>) -> ResourceType {
        let sub = subcategory.unwrap_or("").trim();
        if sub.eq_ignore_ascii_case("Containers") {
            return ResourceType::Container;
        }
        if sub.eq_ignore_ascii_case("Serverless Compute") || sub.eq_ignore_ascii_case("Functions") {
            return ResourceType::Serverless;
        }
        ResourceType::parse(category)
    }

    /// Parses a type's name (`compute`, `Networking`, `databases`…; anything else is `Other`).
    #[must_use]
    pub fn parse(name: &str) -> ResourceType {
        let n = name.trim();
        let is = |s: &str| n.eq_ignore_ascii_case(s);
        if is("compute") {
            ResourceType::Compute
        } else if is("storage") {
            ResourceType::Storage
        } else if is("network") || is("networking") {
            ResourceType::Network
        } else if is("database") || is("databases") {
            ResourceType::Database
        } else if is("container") || is("containers") {
            ResourceType::Container
        } else if is("serverless") {
            ResourceType::Serverless
        } else {
            ResourceType::Other(n.to_owned())
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceType::Compute => "compute",
            ResourceType::Storage => "storage",
            ResourceType::Network => "network",
            ResourceType::Database => "database",
            ResourceType::Container => "container",
            ResourceType::Serverless => "serverless",
            ResourceType::Other(name) => name,
        })
    }
}

/// Who bills for a resource.
///
/// FOCUS `ProviderName` maps onto it: `AWS`/`Amazon Web Services`, `Microsoft`/`Azure`,
/// `Google`/`Google Cloud`/`GCP`; every other provider (Oracle, say) is kept by name.
///
/// # Examples
/// ```
/// use perfcore::cost::CloudProvider;
/// assert_eq!(CloudProvider::parse("Amazon Web Services"), CloudProvider::Aws);
/// assert_eq!(CloudProvider::parse("Microsoft"), CloudProvider::Azure);
/// assert_eq!(CloudProvider::parse("Oracle"), CloudProvider::Other("Oracle".into()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloudProvider {
    /// Amazon Web Services.
    Aws,
    /// Microsoft Azure.
    Azure,
    /// Google Cloud.
    Gcp,
    /// Your own machines.
    OnPremise,
    /// Anything else, by the name it was given.
    Other(String),
}

impl CloudProvider {
    /// Parses a provider's name as billing data writes it.
    #[must_use]
    pub fn parse(name: &str) -> CloudProvider {
        let n = name.trim();
        let is = |s: &str| n.eq_ignore_ascii_case(s);
        if is("aws") || is("amazon web services") || is("amazon") {
            CloudProvider::Aws
        } else if is("azure") || is("microsoft") || is("microsoft azure") {
            CloudProvider::Azure
        } else if is("gcp") || is("google") || is("google cloud") || is("google cloud platform") {
            CloudProvider::Gcp
        } else if is("on-premise") || is("on_premise") || is("on-premises") || is("onpremise") {
            CloudProvider::OnPremise
        } else {
            CloudProvider::Other(n.to_owned())
        }
    }
}

impl fmt::Display for CloudProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CloudProvider::Aws => "AWS",
            CloudProvider::Azure => "Azure",
            CloudProvider::Gcp => "GCP",
            CloudProvider::OnPremise => "on-premise",
            CloudProvider::Other(name) => name,
        })
    }
}

/// One utilisation reading of a resource: fractions in 0..=1, bytes per second.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UtilizationSample {
    /// When it was taken, seconds since the epoch (UTC).
    pub at_unix: i64,
    /// CPU utilisation, 0..=1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<f64>,
    /// Memory utilisation, 0..=1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<f64>,
    /// Network throughput, bytes per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_bytes_per_sec: Option<f64>,
}

impl UtilizationSample {
    /// Checks that fractions are within 0..=1 and throughput is finite and not negative.
    pub fn validate(&self) -> Result<(), CostError> {
        for (what, v) in [("cpu utilisation", self.cpu), ("memory utilisation", self.memory)] {
            if let Some(v) = v
                && !(0.0..=1.0).contains(&v)
            {
                return Err(CostError::Invalid {
                    what,
                    message: format!("{v} is not a fraction in 0..=1"),
                });
            }
        }
        if let Some(v) = self.network_bytes_per_sec
            && !(v.is_finite() && v >= 0.0)
        {
            return Err(CostError::Invalid {
                what: "network throughput",
                message: format!("{v} bytes per second"),
            });
        }
        Ok(())
    }
}

/// A resource the application tracks itself (its own machines, say), as seed 003's
/// `track_resource` does: what it is, how long it ran and what an hour costs.
///
/// # Examples
/// ```
/// use perfcore::cost::{CloudProvider, Resource, ResourceType};
/// let server = Resource::new("app-server-01", ResourceType::Compute, CloudProvider::Aws)
///     .usage_hours("720".parse().unwrap())
///     .cost_per_hour("0.096".parse().unwrap());
/// assert_eq!(server.cost().unwrap().to_string(), "69.12 USD");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// Its identifier (an instance id, an ARN, a host name).
    pub id: String,
    /// Its type.
    pub resource_type: ResourceType,
    /// Who bills for it.
    pub provider: CloudProvider,
    /// Its region, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The service it belongs to (`Amazon Elastic Compute Cloud`, `checkout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The account it is billed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Its tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Hours it ran in the period it is reported in.
    pub usage_hours: Decimal,
    /// What an hour costs (ignored when `charges` is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_per_hour: Option<Decimal>,
    /// The total charged, when it is known rather than a rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charges: Option<Decimal>,
    /// The currency of the rate and the charges.
    pub currency: Currency,
    /// Utilisation readings over time.
    #[serde(default)]
    pub utilization: Vec<UtilizationSample>,
    /// Anything else the caller attached (seed 003's `metadata`), as JSON values.
    #[serde(default)]
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// When it was last seen active, seconds since the epoch (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity_unix: Option<i64>,
    /// When it was tracked; its cost counts on that day in dated reports.
    pub tracked_at_unix: i64,
}

impl Resource {
    /// A resource with no usage yet, in USD, tracked now.
    #[must_use]
    pub fn new(
        id: impl Into<String>,
        resource_type: ResourceType,
        provider: CloudProvider,
    ) -> Resource {
        let now = super::time::unix_now();
        Resource {
            id: id.into(),
            resource_type,
            provider,
            region: None,
            service: None,
            account: None,
            tags: BTreeMap::new(),
            usage_hours: Decimal::ZERO,
            cost_per_hour: None,
            charges: None,
            currency: Currency::USD,
            utilization: Vec::new(),
            metadata: BTreeMap::new(),
            last_activity_unix: None,
            tracked_at_unix: now,
        }
    }

    /// Sets the hours it ran.
    #[must_use]
    pub fn usage_hours(mut self, hours: Decimal) -> Resource {
        self.usage_hours = hours;
        self
    }

    /// Sets what an hour costs.
    #[must_use]
    pub fn cost_per_hour(mut self, rate: Decimal) -> Resource {
        self.cost_per_hour = Some(rate);
        self
    }

    /// Sets the total charged instead of a rate.
    #[must_use]
    pub fn charges(mut self, total: Decimal) -> Resource {
        self.charges = Some(total);
        self
    }

    /// Sets the currency.
    #[must_use]
    pub fn currency(mut self, currency: Currency) -> Resource {
        self.currency = currency;
        self
    }

    /// Sets the region.
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> Resource {
        self.region = Some(region.into());
        self
    }

    /// Sets the service.
    #[must_use]
    pub fn service(mut self, service: impl Into<String>) -> Resource {
        self.service = Some(service.into());
        self
    }

    /// Sets the account it is billed to.
    #[must_use]
    pub fn account(mut self, account: impl Into<String>) -> Resource {
        self.account = Some(account.into());
        self
    }

    /// Adds a tag.
    #[must_use]
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Resource {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// Adds a utilisation reading.
    #[must_use]
    pub fn utilization(mut self, sample: UtilizationSample) -> Resource {
        self.utilization.push(sample);
        self
    }

    /// What it cost: `charges` if given, else `usage_hours × cost_per_hour` (zero without a
    /// rate), exact.
    pub fn cost(&self) -> Result<Money, CostError> {
        let amount = match (self.charges, self.cost_per_hour) {
            (Some(c), _) => c,
            (None, Some(rate)) => self.usage_hours.checked_mul(rate).ok_or(CostError::Overflow)?,
            (None, None) => Decimal::ZERO,
        };
        Ok(Money::new(amount.normalize(), self.currency))
    }

    /// The mean CPU utilisation of its readings, if it has any.
    #[must_use]
    pub fn mean_cpu(&self) -> Option<f64> {
        let cpu: Vec<f64> = self.utilization.iter().filter_map(|s| s.cpu).collect();
        (!cpu.is_empty()).then(|| cpu.iter().sum::<f64>() / cpu.len() as f64)
    }

    /// Checks the resource before it is tracked: an id, hours and rates not negative, readings
    /// in range.
    pub fn validate(&self) -> Result<(), CostError> {
        if self.id.trim().is_empty() {
            return Err(CostError::Invalid { what: "resource id", message: "it is empty".into() });
        }
        for (what, v) in
            [("usage hours", Some(self.usage_hours)), ("cost per hour", self.cost_per_hour)]
        {
            if let Some(v) = v
                && v.is_sign_negative()
                && !v.is_zero()
            {
                return Err(CostError::Invalid { what, message: format!("{v} is negative") });
            }
        }
        self.utilization.iter().try_for_each(UtilizationSample::validate)
    }
}
