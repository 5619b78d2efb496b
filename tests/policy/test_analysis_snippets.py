"""Zero false denials: realistic data-analysis code that agent_analysis must approve."""

from __future__ import annotations

from pathlib import Path

import pytest

from governed_agents import analyze
from governed_agents.policy import load_policy

SEED = load_policy(Path(__file__).resolve().parents[2] / "policies" / "seed.policy")
D = "/data/analysis"

SNIPPETS = [
    f"import pandas as pd\ndf = pd.read_csv('{D}/sales.csv')\nprint(df.head())",
    f"import pandas as pd\ndf = pd.read_csv('{D}/sales.csv', parse_dates=['date'])\nprint(df.groupby('region')['amount'].sum())",
    f"import pandas as pd\ndf = pd.read_parquet('{D}/events.parquet')\nprint(df.describe())",
    f"import pandas as pd\ndf = pd.read_json('{D}/orders.json', lines=True)\nprint(len(df))",
    f"import pandas as pd\nxl = pd.read_excel('{D}/budget.xlsx', sheet_name='2024')\nprint(xl.columns.tolist())",
    f"import numpy as np\na = np.loadtxt('{D}/matrix.txt')\nprint(a.mean(axis=0))",
    f"import numpy as np\na = np.load('{D}/weights.npy')\nprint(a.shape)",
    f"import numpy as np\ndata = np.genfromtxt('{D}/readings.csv', delimiter=',', skip_header=1)\nprint(np.nanmax(data))",
    "import numpy as np\nrng = np.random.default_rng(0)\nx = rng.normal(size=1000)\nprint(x.std())",
    "import numpy as np\nprint(np.linalg.inv(np.array([[2.0, 0.0], [0.0, 4.0]])))",
    f"import pandas as pd\nimport matplotlib.pyplot as plt\ndf = pd.read_csv('{D}/sales.csv')\ndf.plot(x='month', y='revenue')\nplt.show()",
    "import matplotlib.pyplot as plt\nimport numpy as np\nx = np.linspace(0, 10, 100)\nplt.plot(x, np.sin(x))\nplt.title('sine')\nplt.show()",
    "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.bar(['a', 'b'], [1, 2])\nplt.close(fig)",
    f"import pandas as pd\ndf = pd.read_csv('{D}/customers.csv')\nprint(df[df['age'] > 30]['city'].value_counts())",
    f"import pandas as pd\nleft = pd.read_csv('{D}/a.csv')\nright = pd.read_csv('{D}/b.csv')\nprint(left.merge(right, on='id').shape)",
    f"import pandas as pd\ndf = pd.read_csv('{D}/ts.csv', index_col=0, parse_dates=True)\nprint(df.resample('M').mean())",
    f"import pandas as pd\ndf = pd.read_csv('{D}/sales.csv')\npivot = df.pivot_table(index='region', columns='quarter', values='amount', aggfunc='sum')\nprint(pivot)",
    f"import pandas as pd\ndf = pd.read_csv('{D}/sales.csv')\nprint(df.isna().sum())\nprint(df.dropna().shape)",
    f"import pandas as pd\nimport numpy as np\ndf = pd.read_csv('{D}/prices.csv')\ndf['log_return'] = np.log(df['close']).diff()\nprint(df['log_return'].std() * np.sqrt(252))",
    f"import pandas as pd\ndf = pd.read_csv('{D}/survey.csv')\nprint(df.corr(numeric_only=True))",
    "import numpy as np\nA = np.arange(12).reshape(3, 4)\nprint(A.T @ A)",
    f"with open('{D}/notes.txt') as f:\n    for line in f:\n        print(line.strip())",
    f"import pandas as pd\nwith open('{D}/config.json', 'r') as f:\n    print(pd.read_json(f).shape)",
    f"import pandas as pd\ndf = pd.read_csv('{D}/sales.csv')\nprint(df.to_json(orient='records')[:200])",
    "import numpy as np\nprint(np.percentile([1, 5, 9, 13], [25, 50, 75]))",
    f"import pandas as pd\ndf = pd.read_csv('{D}/sales.csv')\nprint(df.sort_values('amount', ascending=False).head(10))",
    f"from pandas import read_csv\nprint(read_csv('{D}/sales.csv').dtypes)",
    "import pandas as pd\nprint(pd.Timestamp('2024-01-01') + pd.Timedelta(days=30))",
    f"import pandas as pd\ndf = pd.read_csv('{D}/log.csv')\nprint(df['msg'].str.extract(r'(\\d+)').astype(float).sum())",
    f"import pandas as pd\nchunks = pd.read_csv('{D}/big.csv', chunksize=10000)\ntotal = sum(len(c) for c in chunks)\nprint(total)",
    f"import pandas as pd\ndf = pd.read_csv('{D}/sales.csv')\nfor region, group in df.groupby('region'):\n    print(region, group['amount'].median())",
    f"import pandas as pd\ndef load():\n    return pd.read_csv('{D}/sales.csv')\nprint(load().shape)",
    "import numpy as np\nfrom numpy.polynomial import polynomial as P\nprint(P.polyfit([0, 1, 2], [1, 3, 5], 1))",
    f"import matplotlib.pyplot as plt\nimg = plt.imread('{D}/chart.png')\nprint(img.shape)",
    "import pandas as pd\ns = pd.Series([1, 2, 3])\nprint(s.rolling(2).mean().tolist())",
]


def test_there_are_at_least_thirty_snippets():
    assert len(SNIPPETS) >= 30


@pytest.mark.parametrize("code", SNIPPETS)
def test_agent_analysis_approves_ordinary_analysis(code):
    decision = SEED.evaluate(analyze(code), executor="agent_analysis")
    assert decision.approved, decision.explain()
