/** The app's id: electron-builder.yml's appId (a test keeps the two equal) and Windows' AppUserModelID. */
export const APP_ID = "io.github.billa-desktop";
