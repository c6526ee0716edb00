import PierEngine

/// Settings flags for a command whose targets are `locations` (for `-u`, see README, Credentials).
func settingsFlags(targeting locations: [String]?) -> SettingsFlags {
    var flags = SettingsFlags()
    flags.targetLocations = locations
    return flags
}
