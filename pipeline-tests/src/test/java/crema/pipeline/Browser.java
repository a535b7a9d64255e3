package crema.pipeline;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A real headless Chromium (Debian's chromium and chromium-driver, or CREMA_CHROMIUM and
 * CREMA_CHROMEDRIVER) driven through WebDriver. Paths are given, so Selenium Manager never tries to
 * download a browser. Where there is none, the tests that need it are skipped, saying why.
 */
final class Browser implements AutoCloseable {
  static final Path SCREENSHOTS = Path.of("target/screenshots");

  final ChromeDriver driver;

  private Browser(ChromeDriver driver) {
    this.driver = driver;
  }

  static Browser start() throws Exception {
    Path chromium = Path.of(System.getenv().getOrDefault("CREMA_CHROMIUM", "/usr/bin/chromium"));
    Path chromedriver = Path.of(System.getenv().getOrDefault("CREMA_CHROMEDRIVER", "/usr/bin/chromedriver"));
    assumeTrue(Files.isExecutable(chromium) && Files.isExecutable(chromedriver),
        "no Chromium here (" + chromium + ", " + chromedriver + "): apt-get install chromium chromium-driver,"
            + " as .ci/run does, or set CREMA_CHROMIUM and CREMA_CHROMEDRIVER");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(chromium.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--window-size=1500,1100", "--disable-background-networking", "--no-first-run", "--disable-extensions");
    options.setCapability("goog:loggingPrefs", java.util.Map.of("browser", "ALL"));
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File(chromedriver.toString())).usingAnyFreePort().build();
    Files.createDirectories(SCREENSHOTS);
    return new Browser(new ChromeDriver(service, options));
  }

  Object js(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  /** Waits for the condition; on timeout, a screenshot named after what was awaited is kept. */
  <T> T await(String what, Duration timeout, Function<WebDriver, T> condition) {
    try {
      return new WebDriverWait(driver, timeout).withMessage(what).pollingEvery(Duration.ofMillis(200))
          .until(condition);
    } catch (org.openqa.selenium.TimeoutException e) {
      try {
        String name = "timeout-" + what.replaceAll("[^A-Za-z0-9]+", "-");
        screenshot(name);
        StringBuilder console = new StringBuilder();
        driver.manage().logs().get("browser").forEach(l -> console.append(l).append('\n'));
        Files.writeString(SCREENSHOTS.resolve(name + ".console.txt"), console);
      } catch (Exception ignored) {
        // the timeout is what matters
      }
      throw e;
    }
  }

  void screenshot(String name) throws Exception {
    Files.write(SCREENSHOTS.resolve(name + ".png"), driver.getScreenshotAs(OutputType.BYTES));
  }

  /** No script a name smuggled in ever ran: it would have raised an alert. */
  boolean alertShown() {
    try {
      driver.switchTo().alert();
      return true;
    } catch (NoAlertPresentException e) {
      return false;
    }
  }

  @Override
  public void close() {
    driver.quit();
  }
}
